/**
 * What one vial label carries. The GS1 strings come from the caller already formed (the GS1 formatters live in
 * the domain); before it draws, the renderer reads them back with the domain's GS1 parsers and checks that the
 * printed fields agree with the symbol (`checkVialLabel`).
 */
export interface VialLabel {
  /**
   * The element string in parenthesised-AI form, exactly what the DataMatrix encodes, e.g.
   * `(01)09520012345674(17)271200(10)LYO24A01(21)V0001`. (01), (17), (10) and (21) are required, (11) allowed,
   * nothing else; a value may not hold `(` (see `parseHumanReadable` in the domain).
   */
  humanReadable: string;
  /** GS1 Digital Link URI of the same vial, printed as small text: `https://id.gs1.org/01/…/10/…/21/…?17=…`. */
  digitalLink: string;
  /** Product name as printed, e.g. `Lyosecretome 50 mg`. */
  productName: string;
  /** Must equal the (10) value. */
  lot: string;
  /** Must equal the (21) value. */
  serial: string;
  /**
   * ISO calendar date `YYYY-MM-DD`, printed as EXP. Must agree with (17): same date, or, when (17) has day
   * `00` ("day not specified"), the last day of that month (GS1 reading of DD = 00).
   */
  expiry: string;
}

export interface VialLabelPngOptions {
  /** Print resolution, written into the PNG (pHYs). Default 300. */
  dpi?: number;
  /**
   * Wanted X-dimension (module size) in mm; rounded to a whole, even number of dots (bwip-js draws a
   * DataMatrix module as 2 × scale pixels), never below 0.254 mm. Default 0.34 mm: 4 dots at 300 dpi, 4 dots
   * (0.50 mm) at 203 dpi, where 2 dots would be 0.250 mm.
   */
  moduleMm?: number;
  /** Size of the human-readable line under the symbol, in points at `dpi`. Default 6. */
  hriPt?: number;
}

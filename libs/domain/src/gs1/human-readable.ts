import { ProblemCode } from '@lyotrace/contracts';
import { type Clock } from '../clock.js';
import {
  aiLabel,
  checkElementCombination,
  checkElementValue,
  describeCharacter,
  duplicateAi,
  type Gs1Element,
  type Gs1Identification,
  identify,
  isSupportedAi,
  unknownAi,
} from './application-identifiers.js';
import { resolveGs1Year } from './gs1-date.js';
import { gs1Refusal } from './gs1-refusal.js';

/** `(` + the AI's digits + `)`, anchored where the previous value ended. */
const AI_IN_PARENTHESES = /\((\d{2,4})\)/y;

/**
 * Reads the human-readable interpretation printed under a barcode (GS1 General Specifications §4.15), e.g.
 * `(01)09520012345674(17)271200(10)LYO24A01(21)V0001`: what `formatHumanReadable` writes, what a person types
 * from a label, and what a barcode encoder such as bwip-js takes as input.
 *
 * - Every element is `(AI)value`; a value runs to the next `(`. In this form `(` cannot be told apart from the
 *   start of an AI, so a value holding one is refused (GS1_CHARSET) rather than split by guesswork; `)` is
 *   unambiguous and taken as data. Such a value is still valid GS1: it is the element string that carries it.
 * - Values, combinations and dates are checked exactly as in `parseElementString`; YY takes its century from
 *   the GS1 sliding window around the clock's (UTC) year.
 *
 * @throws DomainError whose code starts with `GS1_`; `extensions.ai` names the AI at fault and
 *   `extensions.position` is the 0-based offset in `text` where the problem was found
 */
export function parseHumanReadable(text: string, clock: Clock): Gs1Identification {
  if (text === '')
    throw gs1Refusal(ProblemCode.Gs1Empty, 'the human-readable text holds no data', { position: 0 });
  const currentYear = clock.now().getUTCFullYear();
  const resolveYear = (yy: number): number => resolveGs1Year(yy, currentYear);
  const elements: Gs1Element[] = [];
  const positions: number[] = [];
  let i = 0;
  while (i < text.length) {
    const start = i;
    AI_IN_PARENTHESES.lastIndex = i;
    const match = AI_IN_PARENTHESES.exec(text);
    if (match === null) {
      // Only the first element can get here: every later one starts where a value stopped, at a `(`, and a `(`
      // that does not open an AI was kept in the value before it.
      throw gs1Refusal(
        ProblemCode.Gs1UnknownAi,
        `the human-readable form starts each element with its AI in parentheses, such as (01); found ${describeCharacter(text.codePointAt(i) ?? 0)} at character ${i + 1}`,
        { position: i },
      );
    }
    const ai = match[1] ?? '';
    if (!isSupportedAi(ai)) unknownAi(ai, start);
    if (elements.some((element) => element.ai === ai)) duplicateAi(ai, start);
    const valueStart = AI_IN_PARENTHESES.lastIndex;
    let end = valueStart;
    for (;;) {
      end = text.indexOf('(', end);
      if (end < 0) {
        end = text.length;
        break;
      }
      AI_IN_PARENTHESES.lastIndex = end;
      if (AI_IN_PARENTHESES.test(text)) break;
      end++;
    }
    const value = text.slice(valueStart, end);
    checkElementValue(ai, value, resolveYear, { ai: start, value: valueStart });
    const parenthesis = value.indexOf('(');
    if (parenthesis >= 0) {
      throw gs1Refusal(
        ProblemCode.Gs1Charset,
        `${aiLabel(ai)} holds '(' at character ${parenthesis + 1}, which the human-readable form cannot tell apart from the start of an AI: send the element string instead`,
        { ai, position: valueStart + parenthesis },
      );
    }
    elements.push({ ai, value });
    positions.push(start);
    i = end;
  }
  checkElementCombination(elements, positions);
  return identify(elements, resolveYear);
}

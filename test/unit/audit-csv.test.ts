import { describe, expect, it } from 'vitest';
import { csvField, toCsv } from '../../src/http/csv.ts';

/** The audit CSV's cells (issue 12 item 8): text a spreadsheet would run as a formula is defused. */
describe('csvField', () => {
  for (const [cell, expected] of [
    ['=1+1', "'=1+1"],
    ['+1+1', "'+1+1"],
    ['-1+1', "'-1+1"],
    ['@SUM(A1)', "'@SUM(A1)"],
    ['\t=1+1', "'\t=1+1"],
    ['\r=1+1', `"'\r=1+1"`],
    ['\r\n=1+1', `"'\r\n=1+1"`],
  ] as const) {
    it(`when a text cell starts with ${JSON.stringify(cell[0])}, then it gets a leading quote`, () => {
      expect(csvField(cell)).toBe(expected);
    });
  }

  it('when a cell holds such a character further in, or is a number, then it is left alone', () => {
    expect(csvField('a=1+1')).toBe('a=1+1');
    expect(csvField('U0ALICE\t-x')).toBe('U0ALICE\t-x');
    expect(csvField(-5)).toBe('-5');
  });

  it('when a row holds a tab-led and a CR-led cell, then each cell is defused and the row stays one record', () => {
    expect(toCsv([['\tcmd', '\r@cmd', 'ok']])).toBe(`'\tcmd,"'\r@cmd",ok\r\n`);
  });
});

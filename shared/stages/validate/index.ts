export { FileLineSink } from './file-sink';
export { allGoodColumnsSql, allGoodRowsSql, goodRowsSql, typedColumnsSql } from './line-rules-sql';
export { discardLines, textLayout, validateFileAt } from './validate-file';
export { validateLandedObject } from './validate-object';
export { parseVerdict } from './verdict';
export type { Verdict } from './verdict';

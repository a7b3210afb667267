// How `npm test` runs one test file with tap, shared with the test that proves it (test/test-runner.test.ts).
//
// Every tap run starts by deleting `.tap/processinfo`, where each node process of the runs already going writes its
// record. With several files at once, that delete failed with ENOTEMPTY and the starting runner exited 1 before its
// first line, a red CI that named nothing (8ec5a6b's landing run). A run given a save list (`--save`, the file alone)
// deletes nothing; tap empties the list when the file passes.

/** tap's arguments for one file, `saveList` a path of its own that holds the file's path and a newline. */
export const tapFileArgs = (file, saveList) => ['--save', saveList, '--jobs', '1', file];

// A vitest reporter that fails the run when two tests of one file share a full title (suites and
// name). A report then cannot say which of the two failed, and a test.each whose rows format to
// the same title usually hides a row that tests something else than its title says.
export default class UniqueTestTitles {
  onTestRunEnd(testModules) {
    const duplicates = [];
    for (const module of testModules) {
      const seen = new Map();
      for (const test of module.children.allTests()) {
        seen.set(test.fullName, (seen.get(test.fullName) ?? 0) + 1);
      }
      for (const [title, count] of seen) {
        if (count > 1)
          duplicates.push(`${module.project.name} ${module.relativeModuleId}: ${count}× "${title}"`);
      }
    }
    if (duplicates.length === 0) return;
    console.error(`\nTests sharing a title (give each its own):\n  ${duplicates.join("\n  ")}\n`);
    process.exitCode = 1;
  }
}

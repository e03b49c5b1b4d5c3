/**
 * zod's issues as one line ("queue: too long; delayMs: must be at least 0"),
 * for errors a CLI prints on one line. `names` renames paths for readers who
 * know them by other names (a CLI's flags).
 */
export function formatIssues(
  error: { issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }> },
  names: Readonly<Record<string, string>> = {},
): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => {
      if (issue.path.length === 0) return issue.message;
      const path = issue.path.map(String).join('.');
      return `${names[path] ?? path}: ${issue.message}`;
    })
    .join('; ');
}

/** The command that runs this same program: the compiled binary itself, or bun with the entry file. */
export function selfCommand(): string[] {
  return Bun.main.startsWith("/$bunfs/") ? [process.execPath] : [process.execPath, Bun.main];
}

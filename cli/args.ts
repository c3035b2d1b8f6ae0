/** Minimal flag parsing for the CLI: positional arguments, `--flag value` and `--switch`. */
export function parseArgs(
  args: string[],
  switches: string[] = [],
): { positional: string[]; flags: Map<string, string | true> } {
  const positional: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (!arg.startsWith('--')) {
      positional.push(arg);
      continue;
    }
    const [name, inline] = arg.slice(2).split('=', 2) as [string, string | undefined];
    if (inline !== undefined) flags.set(name, inline);
    else if (switches.includes(name)) flags.set(name, true);
    else flags.set(name, args[++i] ?? '');
  }
  return { positional, flags };
}

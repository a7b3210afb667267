export async function runAgentCli(_argv: string[]): Promise<number> {
  return 1;
}

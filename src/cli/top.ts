export async function runTop(_argv: string[]): Promise<number> {
  return 0;
}

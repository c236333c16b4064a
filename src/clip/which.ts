// Finds a program on PATH the way a shell would, so that `syncline clip` can say which tool is
// missing before it tries one (and a test can point PATH at fake tools).

import { accessSync, constants, statSync } from "node:fs";
import { join } from "node:path";

/** Finds an executable by name; undefined when there is none. */
export type FindExecutable = (name: string) => string | undefined;

/**
 * The path of the first file named `name` on `env`'s PATH that this user may execute. On
 * Windows the extensions of PATHEXT are tried too (`powershell` → `powershell.exe`), and the
 * variable may be spelled `Path`.
 */
export function findOnPath(
  name: string,
  env: NodeJS.ProcessEnv,
  platform: NodeJS.Platform = process.platform,
): string | undefined {
  const windows = platform === "win32";
  const path = env.PATH ?? (windows ? env.Path : undefined) ?? "";
  const extensions = windows
    ? ["", ...(env.PATHEXT ?? ".COM;.EXE;.BAT;.CMD").split(";").filter(Boolean)]
    : [""];
  for (const dir of path.split(windows ? ";" : ":")) {
    // An empty entry means the current directory to a shell; a tool found there by accident
    // would be run with the user's clipboard, so it is not searched.
    if (dir === "") continue;
    for (const extension of extensions) {
      const candidate = join(dir, name + extension);
      if (isExecutableFile(candidate)) return candidate;
    }
  }
  return undefined;
}

/** A FindExecutable over `env`'s PATH. */
export function pathFinder(env: NodeJS.ProcessEnv, platform?: NodeJS.Platform): FindExecutable {
  return (name) => findOnPath(name, env, platform);
}

function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

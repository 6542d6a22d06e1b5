/** What a command asks of a path before it reads it: false for a path that is missing or cannot be looked at. */
import { statSync } from "node:fs";

export function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

export function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/**
 * The program a `--break` run deploys: a copy of the program's files with one break applied. The
 * repository is not touched; the copy sits under `.e2e-cache/` so that it still resolves the
 * repository's node_modules.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { root } from "../runner/paths";
import { applyBreak, Break, programEntries } from "./catalogue";

/**
 * Copies the program's files (and Pulumi.yaml) and applies the break.
 * @param name the break's name, for the error when its text no longer occurs once
 * @param broken the break
 * @returns the copy's folder: the program root to deploy
 */
export function breakProgram(name: string, broken: Break): string {
    const copy = path.join(root, ".e2e-cache", "program");
    fs.rmSync(copy, { recursive: true, force: true });
    for (const entry of programEntries) fs.cpSync(path.join(root, entry), path.join(copy, entry), { recursive: true });
    const file = path.join(copy, broken.file);
    fs.writeFileSync(file, applyBreak(name, broken, fs.readFileSync(file, "utf8")));
    return copy;
}

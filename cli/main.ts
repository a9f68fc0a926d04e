#!/usr/bin/env node
/** Entry point of the `cabalmail` command (npm run cabalmail -- ARGS). */
import { createInterface } from "node:readline";
import type { Prompt } from "./auth";
import { runCli } from "./program";

/** Asks on the terminal; a secret is not echoed. Reads plain lines when stdin is not a terminal (scripts). */
const prompt: Prompt = (question, options = {}) =>
    new Promise((resolve) => {
        const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: process.stdin.isTTY === true });
        if (options.secret && process.stdin.isTTY) {
            // Echo nothing after the question while the secret is typed.
            (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput = (s: string) => {
                if (s.startsWith(question)) process.stderr.write(question);
            };
        }
        rl.question(question, (answer) => {
            rl.close();
            if (options.secret && process.stdin.isTTY) process.stderr.write("\n");
            resolve(answer);
        });
    });

runCli(process.argv.slice(2), { prompt }).then((code) => process.exit(code));

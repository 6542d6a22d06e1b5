import { defineCommand } from "citty";
import { defaultConfigYaml } from "../config.ts";
import { debugArg } from "./errors.ts";

export const configCommand = defineCommand({
  meta: { name: "config", description: "Print the complete default config (YAML, commented)" },
  args: { debug: debugArg },
  run() {
    process.stdout.write(defaultConfigYaml());
  },
});

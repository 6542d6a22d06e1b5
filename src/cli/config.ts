import { defineCommand } from "citty";
import { defaultConfigYaml } from "../config.ts";

export const configCommand = defineCommand({
  meta: { name: "config", description: "Print the complete default config (YAML, commented)" },
  run() {
    process.stdout.write(defaultConfigYaml());
  },
});

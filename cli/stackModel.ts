import { ConfigError } from "../infra/model/issues";
import { buildModel, type StackModel } from "../infra/model/model";
import { readStackConfig } from "../infra/model/stackFiles";

/** The stack's model at `at`, or a ConfigError with every issue; `cwd` names files in messages. */
export function loadStackModel(projectDir: string, stack: string, at: Date, cwd: string): StackModel {
    const input = readStackConfig(projectDir, stack, { cwd });
    const result = buildModel(input, at);
    if (!result.model) throw new ConfigError(result.issues, input.source);
    return result.model;
}

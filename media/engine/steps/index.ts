/**
 * The step types this engine runs on Linux, by catalog type. Anything else fails with a reason
 * that names the type: a task sequence must not look successful when a step silently did nothing.
 */
import type { StepItem } from '../../../policy/task-sequences/model.js';
import type { StepOutcome } from '../runner.js';
import { runCommandLine, runPowerShellScript } from './command.js';
import { formatAndPartitionDisk } from './disk.js';
import { joinDomainOrWorkgroup, restartComputer, setDynamicVariables, setTaskSequenceVariable } from './general.js';
import { applyOperatingSystemImage, captureOperatingSystemImage } from './images.js';
import { applyDriverPackage, downloadPackageContent, installPackage } from './packages.js';
import type { StepEnv, StepHandler } from './types.js';
import { captureUserState, restoreUserState } from './user-state.js';

export const STEP_HANDLERS: Readonly<Record<string, StepHandler>> = {
  RunCommandLine: runCommandLine,
  RunPowerShellScript: runPowerShellScript,
  SetTaskSequenceVariable: setTaskSequenceVariable,
  SetDynamicVariables: setDynamicVariables,
  DownloadPackageContent: downloadPackageContent,
  InstallPackage: installPackage,
  ApplyOperatingSystemImage: applyOperatingSystemImage,
  CaptureOperatingSystemImage: captureOperatingSystemImage,
  CaptureUserState: captureUserState,
  RestoreUserState: restoreUserState,
  FormatAndPartitionDisk: formatAndPartitionDisk,
  RestartComputer: restartComputer,
  ApplyDriverPackage: applyDriverPackage,
  JoinDomainOrWorkgroup: joinDomainOrWorkgroup,
};

export async function executeStep(step: StepItem, env: StepEnv): Promise<StepOutcome> {
  const handler = STEP_HANDLERS[step.type];
  if (!handler) return { ok: false, message: `step type ${step.type} cannot run on this engine` };
  try {
    return await handler(step, env);
  } catch (e) {
    // A step that throws (a path that leaves the root, content that cannot be fetched) has failed.
    return { ok: false, message: (e as Error).message ?? String(e) };
  }
}

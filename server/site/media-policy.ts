/**
 * What standalone and prestaged media carry so the engine runs with no network:
 * the deployment's task sequence with its step secrets, the target collection's variables
 * (hidden ones included) and the built-ins known before a machine boots, plus the content it
 * references. Secrets only ever leave the site sealed by a media password. The list of content
 * staged on the media goes into the policy at build time (stagedContent), so the password that
 * seals the policy also binds osdeploy/content.json.
 */
import { manifestOf } from '../../content/model.js';
import { builtInVariables, type MediaForm } from '../../policy/builtins.js';
import type { Architecture } from '../../policy/content-refs.js';
import { isHidden, type Deployment } from '../../policy/deployments/model.js';
import { refused } from '../../policy/errors.js';
import { redactSecrets, stepType } from '../../policy/steps/catalog.js';
import type { TaskSequence } from '../../policy/task-sequences/model.js';
import { checkReferences } from '../../policy/task-sequences/references.js';
import { walk } from '../../policy/task-sequences/tree.js';
import type { MediaPolicy, MediaPolicyContent, MediaType } from '../../media/boot-media/model.js';
import type { ContentToStage } from '../../media/boot-media/stage.js';
import { contentIndex } from './content.js';
import type { SiteContext } from './context.js';
import { taskSequencePolicy } from './run-policy.js';

/** Set by the engine from the machine it runs on, so not on media made for any machine. */
const MACHINE_BUILT_INS = ['_SMSTSMacAddresses', '_SMSTSUUID', '_SMSTSClientGUID', '_SMSTSUnknownComputer', '_SMSTSBootUEFI'];

export interface MediaPolicyResult {
  readonly policy: MediaPolicy;
  /** Where secrets are: `<step name>.<property>`, `variable <name>`. Values never. */
  readonly secrets: readonly string[];
}

export function secretsOf(ts: TaskSequence, variables: readonly { name: string; hidden: boolean }[]): string[] {
  const found: string[] = [];
  for (const { item } of walk(ts.items)) {
    if (item.kind !== 'step' || !stepType(item.type)) continue;
    for (const name of redactSecrets(item.type, item.properties).secretsSet) found.push(`step "${item.name}" ${name}`);
  }
  for (const v of variables) if (v.hidden) found.push(`hidden variable ${v.name}`);
  return found;
}

export async function mediaPolicy(ctx: SiteContext, o: { deployment: Deployment; taskSequence: TaskSequence; type: MediaType; mediaForm: MediaForm; architecture: Architecture; siteUrl: string }): Promise<MediaPolicyResult> {
  const site = ctx.snapshot.get();
  const { deployment, taskSequence: ts } = o;
  const variables = (site.collections.get(deployment.collectionId)?.variables ?? []).map((v) => ({ name: v.name, value: v.value, hidden: v.hidden }));
  const builtIns: Record<string, string> = builtInVariables({
    siteCode: site.siteCode,
    siteAddress: o.siteUrl,
    mediaType: o.type === 'prestaged' ? 'oemMedia' : o.type === 'standalone' ? 'fullMedia' : 'bootMedia',
    mediaForm: o.mediaForm,
    macAddresses: [],
    smbiosUuid: null,
    architecture: o.architecture,
    uefi: false,
    computer: site.unknownComputer[o.architecture],
    known: false,
    deployment,
    taskSequence: ts,
  });
  for (const k of MACHINE_BUILT_INS) delete builtIns[k];
  const policy: MediaPolicy = {
    deploymentId: deployment.id,
    taskSequenceId: ts.id,
    taskSequenceName: ts.name,
    purpose: deployment.purpose,
    builtIns,
    taskSequence: taskSequencePolicy(ts, true),
    variables,
    hidden: isHidden(deployment.availability),
    programs: await packagePrograms(ctx, ts),
  };
  return { policy, secrets: secretsOf(ts, variables) };
}

/** The programs of every package the task sequence references, so Install Package runs with no site. */
async function packagePrograms(ctx: SiteContext, ts: TaskSequence): Promise<Record<string, readonly { name: string; commandLine: string }[]>> {
  const out: Record<string, readonly { name: string; commandLine: string }[]> = {};
  for (const ref of checkReferences(ts, contentIndex(ctx)).content) {
    const o = ref.kind === 'package' ? await ctx.library.records.get(ref.id) : undefined;
    if (o?.kind === 'package') out[ref.id] = o.programs.map(({ name, commandLine }) => ({ name, commandLine }));
  }
  return out;
}

/** Every content object the task sequence needs, or a 422 naming what is missing or unusable. */
export function referencedContent(ctx: SiteContext, ts: TaskSequence): string[] {
  const report = checkReferences(ts, contentIndex(ctx));
  if (!report.ok) {
    const why = report.problems.map((p) => `${p.via}: ${p.reason}`).join('; ');
    throw refused(`task sequence ${ts.id} cannot go on media: ${why}`, 'R-04', 'deploymentId');
  }
  return report.content.map((c) => c.id);
}

/**
 * The sealed list of what a build stages (MediaPolicy.content): each object's id, kind, version,
 * where it lies and the hash of its file list — from the very versions the build copies, not the
 * ones current when the media were requested (content can change in between).
 */
export function stagedContent(content: readonly ContentToStage[]): MediaPolicyContent[] {
  return content.map(({ content: c, root }) => ({ id: c.id, kind: c.kind, version: c.version, root, filesSha256: manifestOf(c.files).sha256 }));
}

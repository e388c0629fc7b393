/**
 * A media request (POST /api/v1/media) checked and resolved against the site: the type and
 * format, the deployment and boot image it names, the media variables, the
 * password and the expiry. Bad input is a 400 naming the field; a rule's refusal a 422.
 */
import type { MediaForm } from '../../policy/builtins.js';
import type { Architecture } from '../../policy/content-refs.js';
import { isMediaOrPxe, type Deployment } from '../../policy/deployments/model.js';
import { invalid, notFound, refused } from '../../policy/errors.js';
import type { TaskSequence } from '../../policy/task-sequences/model.js';
import { MIN_PASSWORD_LENGTH } from '../../media/boot-media/crypto.js';
import { formatsFor, MEDIA_FORMATS, MEDIA_TYPES, PREFERRED_VARIABLE, preferredOf, VARIABLE_NAME, type MediaFormat, type MediaType } from '../../media/boot-media/model.js';
import { contentIndex } from './content.js';
import type { SiteContext } from './context.js';

export interface MediaInput {
  readonly type: string;
  readonly format?: string;
  readonly bootImageId?: string;
  readonly deploymentId?: string;
  readonly variables?: Readonly<Record<string, string>>;
  readonly allowUnattended?: boolean;
  readonly password?: string;
  /** ISO 8601. */
  readonly expiresAt?: string;
  /** The site address put on the media; the service's public URL by default. */
  readonly siteUrl?: string;
}

export interface MediaPlan {
  readonly type: MediaType;
  readonly format: MediaFormat;
  readonly mediaForm: MediaForm;
  readonly bootImageId: string;
  readonly architecture: Architecture;
  readonly deployment: Deployment | null;
  readonly taskSequence: TaskSequence | null;
  readonly variables: Readonly<Record<string, string>>;
  readonly preferred: string | null;
  readonly allowUnattended: boolean;
  readonly password: string | null;
  readonly expiresAt: number | null;
  readonly siteUrl: string;
}

const SITE_URL = /^https?:\/\/[A-Za-z0-9.\-:[\]]+$/;
const MAX_VARIABLES = 1000;
const FORM: Record<MediaFormat, MediaForm> = { iso: 'cd', folder: 'usb', tar: 'usb', raw: 'hardDisk' };

function checkVariables(input: unknown): Record<string, string> {
  if (input === undefined) return {};
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw invalid('variables must be an object of NAME: VALUE', 'variables');
  const entries = Object.entries(input as Record<string, unknown>);
  if (entries.length > MAX_VARIABLES) throw invalid(`at most ${MAX_VARIABLES} media variables`, 'variables');
  const seen = new Set<string>();
  for (const [name, value] of entries) {
    if (!VARIABLE_NAME.test(name)) throw invalid(`media variable name ${JSON.stringify(name.slice(0, 64))} must start with a letter and hold letters, digits, . _ - (names starting with _ are built-ins)`, `variables.${name}`);
    if (typeof value !== 'string' || value.length > 16384) throw invalid(`media variable ${name} must be a string of at most 16384 characters`, `variables.${name}`);
    if (seen.has(name.toLowerCase())) throw invalid(`media variable ${name} is given twice`, `variables.${name}`);
    seen.add(name.toLowerCase());
  }
  return Object.fromEntries(entries) as Record<string, string>;
}

function mediaDeployment(ctx: SiteContext, id: string, field: string): { deployment: Deployment; taskSequence: TaskSequence } {
  const site = ctx.snapshot.get();
  const deployment = site.deployments.get(id);
  if (!deployment) throw notFound(`no deployment ${id}`, field);
  // media only ever runs deployments made available to media and PXE.
  if (!isMediaOrPxe(deployment.availability)) throw refused(`deployment ${id} is available to clients only; make it available to media and PXE`, 'R-20', field);
  const taskSequence = site.taskSequences.get(deployment.taskSequenceId);
  if (!taskSequence) throw notFound(`deployment ${id} names task sequence ${deployment.taskSequenceId}, which does not exist`, field);
  return { deployment, taskSequence };
}

function expiryOf(raw: string | undefined, now: number): number | null {
  if (raw === undefined) return null;
  const at = /^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:\d{2})?)?$/.test(raw) ? Date.parse(raw) : NaN;
  if (Number.isNaN(at)) throw invalid('expiresAt must be an ISO 8601 date or date-time, e.g. 2026-12-31T18:00:00Z', 'expiresAt');
  if (at <= now) throw invalid(`expiresAt ${raw} is not in the future`, 'expiresAt');
  return at;
}

export function planMedia(ctx: SiteContext, input: MediaInput, publicUrl: string): MediaPlan {
  if (!MEDIA_TYPES.includes(input.type as MediaType)) throw invalid(`type must be one of ${MEDIA_TYPES.join(', ')}`, 'type');
  const type = input.type as MediaType;
  const format = (input.format ?? formatsFor(type)[0]!) as MediaFormat;
  if (!MEDIA_FORMATS.includes(format) || !formatsFor(type).includes(format)) throw invalid(`format for ${type} media must be one of ${formatsFor(type).join(', ')}`, 'format');

  if (type !== 'bootable' && !input.deploymentId) throw invalid(`${type} media needs deploymentId: the task sequence it carries`, 'deploymentId');
  const named = input.deploymentId ? mediaDeployment(ctx, input.deploymentId, 'deploymentId') : null;

  const variables = checkVariables(input.variables);
  let preferred = preferredOf(variables) ?? null;
  if (preferred !== null) mediaDeployment(ctx, preferred, `variables.${PREFERRED_VARIABLE}`);
  else if (named) {
    // The media's deployment is the one it prefers, unless a variable says otherwise.
    preferred = named.deployment.id;
    variables[PREFERRED_VARIABLE] = preferred;
  }
  if (type !== 'bootable' && preferred !== named?.deployment.id) throw invalid(`${type} media carries deployment ${named?.deployment.id}; ${PREFERRED_VARIABLE} cannot name another`, `variables.${PREFERRED_VARIABLE}`);

  const bootImageId = input.bootImageId ?? named?.taskSequence.bootImageId ?? undefined;
  if (!bootImageId) throw invalid('bootImageId is required (the deployment\'s task sequence has no boot image)', 'bootImageId');
  const bootImage = contentIndex(ctx).get(bootImageId);
  if (!bootImage) throw notFound(`no content ${bootImageId}`, 'bootImageId');
  if (bootImage.kind !== 'bootImage') throw invalid(`${bootImageId} is a ${bootImage.kind}, not a boot image`, 'bootImageId');
  if (!bootImage.usable) throw refused(`boot image ${bootImageId} is not usable: ${bootImage.unusableReason ?? 'unknown reason'}`, 'R-04', 'bootImageId');

  const password = input.password ?? null;
  if (password !== null && (typeof password !== 'string' || password.length < MIN_PASSWORD_LENGTH || password.length > 1024)) {
    throw invalid(`password must be ${MIN_PASSWORD_LENGTH}..1024 characters`, 'password');
  }
  const siteUrl = (input.siteUrl ?? publicUrl).replace(/\/+$/, '');
  if (!SITE_URL.test(siteUrl)) throw invalid(`siteUrl must be http(s)://host[:port] with no path, got ${JSON.stringify(siteUrl.slice(0, 100))}`, 'siteUrl');
  return {
    type,
    format,
    mediaForm: FORM[format],
    bootImageId,
    architecture: bootImage.architecture ?? 'x64',
    deployment: named?.deployment ?? null,
    taskSequence: named?.taskSequence ?? null,
    variables,
    preferred,
    allowUnattended: input.allowUnattended === true,
    password,
    expiresAt: expiryOf(input.expiresAt, ctx.now()),
    siteUrl,
  };
}

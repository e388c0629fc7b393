/**
 * Task sequence templates of `osdeploy ts create --template`: the steps a deployment engineer
 * would otherwise add one by one, sent as edit operations to a custom task sequence.
 * The site's own types (R-01, `--type`) follow Configuration Manager's Windows templates;
 * these are for what osdeploy's Linux boot environment deploys (docs/boot-environment.md).
 */

export type Operation = Record<string, unknown>;

export interface TemplateAnswers {
  readonly bootImageId?: string;
  readonly osImageId?: string;
  readonly imageIndex?: number;
}

interface Template {
  readonly description: string;
  /** Options the template needs, by the answer they fill. */
  readonly needs: readonly ('bootImageId' | 'osImageId')[];
  /** Called once every answer in `needs` is given. */
  readonly operations: (a: TemplateAnswers) => Operation[];
}

/**
 * One GPT layout that boots on both firmwares, so the sequence needs no firmware conditions:
 * a BIOS boot partition (where GRUB puts its core image when BIOS starts a GPT disk), an EFI
 * system partition (GRUB's removable path for UEFI) and the root file system on the rest.
 */
export const LINUX_LAYOUT: readonly string[] = [
  'name=BIOS boot;type=biosboot;size=1MB;fs=none',
  'name=EFI;type=efi;size=260MB;fs=fat32',
  'name=root;type=primary;size=100%;fs=ext4;variable=OSDisk',
];

export const TEMPLATES: Readonly<Record<string, Template>> = {
  'install-linux': {
    description: 'Format and Partition Disk 0 (GPT for BIOS and UEFI), Apply Operating System Image (a root file system tar), Restart Computer',
    needs: ['bootImageId', 'osImageId'],
    operations: (a) => [
      { op: 'addStep', type: 'FormatAndPartitionDisk', name: 'Partition Disk 0', properties: { diskNumber: 0, diskType: 'gpt', partitions: LINUX_LAYOUT } },
      {
        op: 'addStep',
        type: 'ApplyOperatingSystemImage',
        name: 'Apply Operating System',
        properties: { osImageId: a.osImageId, ...(a.imageIndex ? { imageIndex: a.imageIndex } : {}), destination: 'driveLetterVariable', destinationVariable: 'OSDisk' },
      },
      { op: 'addStep', type: 'RestartComputer', name: 'Restart Computer', properties: { restartTo: 'currentOs' } },
    ],
  },
};

export const TEMPLATE_NAMES = Object.keys(TEMPLATES);

/** For --help: each template and what it makes. */
export const templateHelp = (): string => TEMPLATE_NAMES.map((n) => `${n}: ${TEMPLATES[n]!.description}`).join('; ');

const FLAG = { bootImageId: '--boot-image', osImageId: '--os-image' } as const;

/** The template's edit operations, or the reason it cannot be built from these answers. */
export function templateOperations(name: string, answers: TemplateAnswers): Operation[] | string {
  const template = Object.hasOwn(TEMPLATES, name) ? TEMPLATES[name] : undefined;
  if (!template) return `no template ${JSON.stringify(name)}; templates: ${TEMPLATE_NAMES.join(', ')}`;
  const missing = template.needs.filter((k) => !answers[k]);
  if (missing.length) return `--template ${name} needs ${missing.map((k) => FLAG[k]).join(', ')}`;
  return template.operations(answers);
}

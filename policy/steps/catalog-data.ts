/**
 * The step catalog data: Configuration Manager's task sequence step types, by the
 * editor's Add menu category, with the properties the "Task sequence steps" documentation
 * describes. Categories, "runs in" and defaults follow that page (e.g. Join Domain or
 * Workgroup sits under General, Apply Windows Settings under Settings).
 *
 * Secrets are the values R-27 strips on export and R-31 never shows: account passwords,
 * the BitLocker PIN and product keys. Account *names* are not secrets.
 */
import type { ContentKind } from '../content-refs.js';
import type { PropertyDef, PropertyKind, StepTypeDef } from './types.js';

type Extra = Omit<PropertyDef, 'name' | 'label' | 'kind'>;

const of =
  (kind: PropertyKind) =>
  (name: string, label: string, extra: Extra = {}): PropertyDef => ({ name, label, kind, ...extra });

const str = of('string');
const text = of('text');
const bool = of('boolean');
const int = of('integer');
const strList = of('string-list');
const intList = of('integer-list');
const assignments = of('assignments');
const secret = (name: string, label: string, extra: Extra = {}): PropertyDef => str(name, label, { ...extra, secret: true });
const oneOf = (name: string, label: string, values: readonly string[], extra: Extra = {}): PropertyDef =>
  of('enum')(name, label, { ...extra, values });
const ref = (name: string, label: string, refKind: ContentKind, extra: Extra = {}): PropertyDef =>
  of('ref')(name, label, { ...extra, refKind });
const refList = (name: string, label: string, refKind: ContentKind, extra: Extra = {}): PropertyDef =>
  of('ref-list')(name, label, { ...extra, refKind });

// ---- property groups shared by several step types ----

/** "Run this step as the following account" (Run Command Line, Run PowerShell Script). */
const runAs: readonly PropertyDef[] = [
  bool('runAsUser', 'Run this step as the following account', { default: false }),
  str('runAsAccount', 'Account', { description: 'DOMAIN\\user or a local account; fails in the boot image, which cannot join a domain.' }),
  secret('runAsPassword', 'Password'),
];

const timeoutMinutes = int('timeoutMinutes', 'Time-out (minutes)', {
  min: 1,
  max: 999,
  description: 'Absent means no time-out; the process is ended when it expires.',
});

const successCodes = intList('successCodes', 'Success codes', {
  default: [0, 3010],
  description: 'Exit codes that count as success; 3010 asks the engine to restart and continue.',
});

/** Destination of Apply Operating System Image and Apply Data Image. */
const imageDestination: readonly PropertyDef[] = [
  oneOf('destination', 'Destination', ['nextAvailable', 'specificDiskAndPartition', 'specificDriveLetter', 'driveLetterVariable'], {
    default: 'nextAvailable',
    description: 'nextAvailable: the next partition no earlier Apply step targeted.',
  }),
  int('destinationDisk', 'Disk', { min: 0, max: 10000 }),
  int('destinationPartition', 'Partition', { min: 1 }),
  str('destinationDriveLetter', 'Drive letter', { description: 'As the boot image assigns it, e.g. C:' }),
  str('destinationVariable', 'Variable', { description: 'Task sequence variable holding the drive letter (set by Format and Partition Disk).' }),
];

const encryptionMethod = oneOf('encryptionMethod', 'Disk encryption mode', ['default', 'AES_128', 'AES_256', 'XTS_AES128', 'XTS_AES256'], {
  default: 'default',
});
const fullDiskEncryption = bool('fullDiskEncryption', 'Use full disk encryption', { default: false });

// ---- the catalog, in Add menu order ----

const general: readonly StepTypeDef[] = [
  {
    type: 'CheckReadiness',
    displayName: 'Check Readiness',
    category: 'General',
    runsIn: 'both',
    description: 'Verifies that the computer meets the deployment prerequisites; an absent check is not made.',
    properties: [
      int('minMemoryMb', 'Minimum memory (MB)', { min: 0 }),
      int('minProcessorMhz', 'Minimum processor speed (MHz)', { min: 0 }),
      int('minFreeDiskMb', 'Minimum free disk space (MB)', { min: 0 }),
      oneOf('osType', 'Current OS to be refreshed is', ['client', 'server']),
      oneOf('osArchitecture', 'Architecture of current OS', ['32-bit', '64-bit']),
      str('minOsVersion', 'Minimum OS version', { description: 'major.minor.build, e.g. 10.0.16299' }),
      str('maxOsVersion', 'Maximum OS version', { description: 'major.minor.build, e.g. 10.0.18356' }),
      str('minClientVersion', 'Minimum client version', { description: 'e.g. 5.00.8913.1005' }),
      str('osLanguage', 'Language of current OS'),
      bool('acPowerPluggedIn', 'AC power plugged in'),
      bool('networkAdapterConnected', 'Network adapter connected'),
      bool('networkAdapterNotWireless', 'Network adapter is not wireless'),
      bool('uefiMode', 'Computer is in UEFI mode'),
      bool('tpmEnabled', 'TPM 2.0 or above is enabled'),
      bool('tpmActivated', 'TPM 2.0 or above is activated'),
    ],
  },
  {
    type: 'ConnectToNetworkFolder',
    displayName: 'Connect To Network Folder',
    category: 'General',
    runsIn: 'both',
    description: 'Connects to a shared network folder.',
    properties: [
      str('path', 'Path', { required: true, description: '\\\\server\\share' }),
      str('driveLetter', 'Drive', { description: 'Local drive letter for the connection, e.g. Z:' }),
      str('account', 'Account', { required: true }),
      secret('password', 'Password', { required: true }),
    ],
  },
  {
    type: 'JoinDomainOrWorkgroup',
    displayName: 'Join Domain or Workgroup',
    category: 'General',
    runsIn: 'fullOs',
    description: 'Adds the computer to a workgroup or a domain.',
    properties: [
      oneOf('mode', 'Join', ['domain', 'workgroup'], { required: true }),
      str('domain', 'Domain', { description: 'e.g. contoso.com' }),
      str('ou', 'Domain OU', { description: 'LDAP path of the organizational unit.' }),
      str('workgroup', 'Workgroup'),
      str('account', 'Account', { description: 'DOMAIN\\account with permission to join the domain.' }),
      secret('password', 'Password'),
    ],
  },
  {
    type: 'RestartComputer',
    displayName: 'Restart Computer',
    category: 'General',
    runsIn: 'both',
    description: 'Restarts the computer; the task sequence continues with the next step.',
    properties: [
      oneOf('restartTo', 'Specify what to run after restart', ['bootImage', 'currentOs'], { default: 'currentOs' }),
      bool('notifyUser', 'Notify the user before restarting', { default: true }),
      str('message', 'Notification message'),
      int('timeoutSeconds', 'Message display time-out (seconds)', { min: 0, default: 60 }),
    ],
  },
  {
    type: 'RunCommandLine',
    displayName: 'Run Command Line',
    category: 'General',
    runsIn: 'both',
    description: 'Runs a command line silently; it must not restart the computer itself (return 3010 instead).',
    properties: [
      text('commandLine', 'Command line', { required: true }),
      str('outputVariable', 'Output to task sequence variable', { description: 'Keeps the last 1000 characters of output.' }),
      bool('disableFileSystemRedirection', 'Disable 64-bit file system redirection', { default: false }),
      str('workingDirectory', 'Start in', { description: 'Absolute, or relative to the package folder; up to 127 characters.' }),
      ref('packageId', 'Package', 'package', { description: 'Package holding files the command line needs.' }),
      timeoutMinutes,
      ...runAs,
      successCodes,
    ],
  },
  {
    type: 'RunPowerShellScript',
    displayName: 'Run PowerShell Script',
    category: 'General',
    runsIn: 'both',
    description: 'Runs a PowerShell script from a package, or one entered in the step.',
    properties: [
      ref('packageId', 'Package', 'package', { description: 'Package holding the script; absent when scriptSource is given.' }),
      str('scriptName', 'Script name', { description: 'Script in the package to run.' }),
      text('scriptSource', 'Enter a PowerShell script'),
      str('parameters', 'Parameters', { description: 'Parameters for the script, not for powershell.exe.' }),
      oneOf('executionPolicy', 'PowerShell execution policy', ['AllSigned', 'Bypass', 'Undefined'], { default: 'AllSigned' }),
      str('outputVariable', 'Output to task sequence variable'),
      str('workingDirectory', 'Start in'),
      timeoutMinutes,
      ...runAs,
      successCodes,
    ],
  },
  {
    type: 'RunTaskSequence',
    displayName: 'Run Task Sequence',
    category: 'General',
    runsIn: 'both',
    description: 'Runs a child task sequence; it must not reference a boot image of its own.',
    properties: [str('taskSequenceId', 'Task sequence', { required: true })],
  },
  {
    type: 'SetDynamicVariables',
    displayName: 'Set Dynamic Variables',
    category: 'General',
    runsIn: 'both',
    description: 'Gathers facts about the computer (make, model, MAC, UUID…) and sets task sequence variables.',
    properties: [
      assignments('rules', 'Dynamic rules and variables', {
        description: 'Each { name, value } sets the task sequence variable name to value; values may use %var%.',
      }),
    ],
  },
  {
    type: 'SetTaskSequenceVariable',
    displayName: 'Set Task Sequence Variable',
    category: 'General',
    runsIn: 'both',
    description: 'Sets the value of a task sequence variable.',
    properties: [
      str('variable', 'Task sequence variable', { required: true }),
      bool('hideValue', 'Do not display this value', { default: false }),
      str('value', 'Value', { description: 'May name another variable as %varname%.' }),
    ],
  },
];

const disks: readonly StepTypeDef[] = [
  {
    type: 'ConvertDiskToDynamic',
    displayName: 'Convert Disk to Dynamic',
    category: 'Disks',
    runsIn: 'both',
    description: 'Converts a physical disk from basic to dynamic.',
    properties: [int('diskNumber', 'Disk number', { required: true, min: 0, max: 10000 })],
  },
  {
    type: 'DisableBitLocker',
    displayName: 'Disable BitLocker',
    category: 'Disks',
    runsIn: 'fullOs',
    description: 'Suspends BitLocker key protectors on the OS drive or a specific drive; does not decrypt.',
    properties: [
      oneOf('drive', 'Drive', ['currentOsDrive', 'specificDrive'], { default: 'currentOsDrive' }),
      str('specificDrive', 'Specific drive', { description: 'e.g. D:' }),
      int('rebootCount', 'Resume protection after this many restarts', { min: 1, max: 15, default: 1 }),
    ],
  },
  {
    type: 'EnableBitLocker',
    displayName: 'Enable BitLocker',
    category: 'Disks',
    runsIn: 'fullOs',
    description: 'Enables BitLocker on the OS drive or a data drive, completing TPM initialisation.',
    properties: [
      oneOf('drive', 'Choose the drive to encrypt', ['currentOsDrive', 'specificDrive'], { default: 'currentOsDrive' }),
      str('specificDrive', 'Specific drive'),
      oneOf('keyManagement', 'Key management', ['tpmOnly', 'startupKeyOnUsbOnly', 'tpmAndStartupKeyOnUsb', 'tpmAndPin'], {
        default: 'tpmOnly',
      }),
      secret('pin', 'PIN', { description: 'For tpmAndPin.' }),
      encryptionMethod,
      fullDiskEncryption,
      oneOf('recoveryKey', 'Choose where to create the recovery key', ['activeDirectory', 'configMgrDatabase', 'none'], {
        default: 'activeDirectory',
      }),
      bool('waitForEncryption', 'Wait for BitLocker to complete encryption before continuing', { default: false }),
      bool('skipWithoutTpm', 'Skip this step for computers without an enabled TPM', { default: false }),
    ],
  },
  {
    type: 'FormatAndPartitionDisk',
    displayName: 'Format and Partition Disk',
    category: 'Disks',
    runsIn: 'bootImage',
    description: 'Formats and partitions one disk; add another step for each further disk.',
    properties: [
      int('diskNumber', 'Disk number', { required: true, min: 0, max: 10000 }),
      str('diskNumberVariable', 'Variable name to store disk number', {
        description: 'When set, the disk number is read from this task sequence variable at run time.',
      }),
      oneOf('diskType', 'Disk type', ['mbr', 'gpt'], { default: 'gpt' }),
      strList('partitions', 'Volumes', {
        description:
          'One partition per entry, `key=value` pairs separated by `;`: name (label), type ' +
          '(primary|efi|msr|recovery|biosboot|extended|logical; biosboot: GPT only, where GRUB lives when BIOS ' +
          'firmware starts a GPT disk), size (`500MB`, `20GB` or `100%` of the remaining ' +
          'space), fs (ntfs|fat32|ext4|none), quickFormat (true|false), boot (true|false), variable (task ' +
          'sequence variable to receive the drive letter; on the Linux engine the partition device). Example: `name=Windows;type=primary;size=100%;fs=ntfs;variable=OSDisk`.',
      }),
    ],
  },
  {
    type: 'PreProvisionBitLocker',
    displayName: 'Pre-provision BitLocker',
    category: 'Disks',
    runsIn: 'bootImage',
    description: 'Enables BitLocker on a drive in the boot image (used space only); needs a TPM.',
    properties: [
      str('drive', 'Apply BitLocker to the specified drive', { required: true, description: 'A drive letter or %variable%.' }),
      encryptionMethod,
      fullDiskEncryption,
      bool('skipWithoutTpm', 'Skip this step for computers without an enabled TPM', { default: true }),
    ],
  },
];

const usmtPackage = ref('usmtPackageId', 'User state migration tool package', 'package', { required: true });
const storePath = str('storePath', 'State store path', { description: 'Defaults to OSDStateStorePath, as Request State Store set it.' });

const userState: readonly StepTypeDef[] = [
  {
    type: 'CaptureUserState',
    displayName: 'Capture User State',
    category: 'User State',
    runsIn: 'both',
    description: 'Captures user state and settings with USMT into an encrypted state store.',
    properties: [
      usmtPackage,
      storePath,
      bool('includeAllProfiles', 'Capture all user profiles by using standard options', { default: true }),
      strList('configFiles', 'Configuration files', { description: 'USMT .xml files in the package, when not capturing all profiles.' }),
      bool('verboseLogging', 'Enable verbose logging', { default: false }),
      bool('skipEncryptedFiles', 'Skip files using encrypted file system', { default: false }),
      bool('continueOnLockedFiles', 'Continue if some files cannot be captured', { default: true }),
      bool('useHardLinks', 'Capture locally by using links instead of by copying files', { default: false }),
      bool('offline', 'Capture in off-line mode (boot image only)', { default: false }),
      bool('useVolumeShadowCopy', 'Capture by using Volume Copy Shadow Services (VSS)', { default: false }),
    ],
  },
  {
    type: 'ReleaseStateStore',
    displayName: 'Release State Store',
    category: 'User State',
    runsIn: 'fullOs',
    description: 'Tells the state migration point that the capture or restore is complete.',
    properties: [],
  },
  {
    type: 'RequestStateStore',
    displayName: 'Request State Store',
    category: 'User State',
    runsIn: 'both',
    description: 'Requests access to a state migration point to capture or restore state.',
    properties: [
      oneOf('purpose', 'Purpose', ['capture', 'restore'], { default: 'capture' }),
      int('retryCount', 'Number of retries', { min: 0, max: 100, default: 3 }),
      int('retryDelaySeconds', 'Retry delay (seconds)', { min: 0, default: 60 }),
      bool('fallbackToNetworkAccessAccount', 'Use the network access account if the computer account fails', { default: false }),
    ],
  },
  {
    type: 'RestoreUserState',
    displayName: 'Restore User State',
    category: 'User State',
    runsIn: 'fullOs',
    description: 'Restores captured user state and settings with USMT.',
    properties: [
      usmtPackage,
      storePath,
      bool('includeAllProfiles', 'Restore all captured user profiles with standard options', { default: true }),
      strList('configFiles', 'Configuration files'),
      bool('restoreLocalAccounts', 'Restore local computer user profiles', { default: false }),
      secret('localAccountPassword', 'Password for restored local accounts'),
      bool('continueOnRestoreErrors', 'Continue if some files cannot be restored', { default: true }),
      bool('verboseLogging', 'Enable verbose logging', { default: false }),
    ],
  },
];

const images: readonly StepTypeDef[] = [
  {
    type: 'ApplyDataImage',
    displayName: 'Apply Data Image',
    category: 'Images',
    runsIn: 'bootImage',
    deploysOs: true,
    description: 'Copies a data image to the destination partition; no setup is done to boot it.',
    properties: [
      ref('osImageId', 'Image package', 'osImage', { required: true }),
      int('imageIndex', 'Image', { min: 1, default: 1 }),
      ...imageDestination,
      bool('wipePartition', 'Delete all content on the partition before applying the image', { default: true }),
    ],
  },
  {
    type: 'ApplyOperatingSystemImage',
    displayName: 'Apply Operating System Image',
    category: 'Images',
    runsIn: 'bootImage',
    deploysOs: true,
    description: 'Installs an OS image on the destination; sets OSDTargetSystemDrive.',
    properties: [
      ref('osImageId', 'Image package', 'osImage', { required: true }),
      int('imageIndex', 'Image', { min: 1, default: 1 }),
      ref('unattendPackageId', 'Answer file package', 'package'),
      str('unattendFile', 'Answer file name', { description: 'unattend.xml path inside the answer file package.' }),
      ...imageDestination,
      bool('accessContentDirectly', 'Access content directly from the distribution point', { default: false }),
    ],
  },
  {
    type: 'CaptureOperatingSystemImage',
    displayName: 'Capture Operating System Image',
    category: 'Images',
    runsIn: 'bootImage',
    description: 'Captures each NTFS/FAT32 volume of the reference computer into a .wim on a network share.',
    properties: [
      str('destination', 'Target', { required: true, description: '\\\\server\\share\\image.wim' }),
      str('description', 'Description'),
      str('version', 'Version'),
      str('createdBy', 'Created by'),
      str('account', 'Capture operating system image account', { required: true }),
      secret('password', 'Password', { required: true }),
    ],
  },
  {
    type: 'PrepareConfigMgrClientForCapture',
    displayName: 'Prepare ConfigMgr Client for Capture',
    category: 'Images',
    runsIn: 'fullOs',
    description: 'Removes the client from the reference computer before capture.',
    properties: [],
  },
  {
    type: 'PrepareWindowsForCapture',
    displayName: 'Prepare Windows for Capture',
    category: 'Images',
    runsIn: 'fullOs',
    description: 'Runs Sysprep and restarts into the boot image; fails on a domain-joined computer.',
    properties: [
      bool('buildMassStorageDriverList', 'Automatically build mass storage driver list', { default: false }),
      bool('keepActivation', 'Do not reset activation flag', { default: false }),
      bool('shutdownAfter', 'Shutdown the computer after running this action', { default: false }),
    ],
  },
  {
    type: 'SetupWindowsAndConfigMgr',
    displayName: 'Setup Windows and ConfigMgr',
    category: 'Images',
    // Starts in the boot image and finishes in the new OS; it can only be placed in the boot-image part.
    runsIn: 'bootImage',
    description: 'Moves from the boot image to the new OS and installs the client there.',
    properties: [
      ref('clientPackageId', 'Client package', 'package'),
      ref('preProductionClientPackageId', 'Pre-production client package', 'package'),
      str('installationProperties', 'Installation properties'),
    ],
  },
  {
    type: 'UpgradeOperatingSystem',
    displayName: 'Upgrade Operating System',
    category: 'Images',
    runsIn: 'fullOs',
    deploysOs: true,
    description: 'Upgrades Windows in place with Windows Setup.',
    properties: [
      ref('osUpgradePackageId', 'Upgrade package', 'osUpgradePackage', { required: true }),
      str('sourcePath', 'Source path', { description: 'Local or network path or %variable% (setup /InstallFrom).' }),
      int('editionIndex', 'Edition', { min: 1, default: 1 }),
      secret('productKey', 'Product key'),
      ref('driverPackageId', 'Driver package', 'driverPackage'),
      str('stagedDriverContent', 'Staged driver content', { description: 'Folder or %variable% (setup /InstallDriver).' }),
      timeoutMinutes,
      bool('compatScanOnly', 'Perform Windows Setup compatibility scan without starting upgrade', { default: false }),
      bool('ignoreDismissibleMessages', 'Ignore any dismissible compatibility messages', { default: false }),
      bool('dynamicUpdate', 'Dynamically update Windows Setup with Windows Update', { default: false }),
      bool('overridePolicy', 'Override policy and use default Microsoft Update', { default: false }),
    ],
  },
];

const unsignedDrivers = bool('unattended', 'Do unattended installation of unsigned drivers where allowed', { default: false });

const drivers: readonly StepTypeDef[] = [
  {
    type: 'ApplyDriverPackage',
    displayName: 'Apply Driver Package',
    category: 'Drivers',
    runsIn: 'bootImage',
    description: 'Makes every driver of a driver package available to Windows setup.',
    properties: [
      ref('driverPackageId', 'Driver package', 'driverPackage', { required: true }),
      bool('recurse', 'Install driver package via running DISM with recurse option', { default: false }),
      unsignedDrivers,
    ],
  },
  {
    type: 'AutoApplyDrivers',
    displayName: 'Auto Apply Drivers',
    category: 'Drivers',
    runsIn: 'bootImage',
    description: 'Matches the hardware against the driver catalog and stages the drivers found.',
    properties: [
      bool('bestMatchOnly', 'Install only the best matched compatible drivers', { default: true }),
      strList('categories', 'Limit driver matching to these categories', { description: 'Empty: consider all categories.' }),
      unsignedDrivers,
    ],
  },
];

const settings: readonly StepTypeDef[] = [
  {
    type: 'ApplyNetworkSettings',
    displayName: 'Apply Network Settings',
    category: 'Settings',
    runsIn: 'bootImage',
    description: 'Writes workgroup or domain membership into the answer file Setup Windows and ConfigMgr uses.',
    properties: [
      oneOf('mode', 'Join', ['workgroup', 'domain'], { default: 'workgroup' }),
      str('workgroup', 'Workgroup'),
      str('domain', 'Domain'),
      str('ou', 'Domain OU'),
      str('domainJoinAccount', 'Account'),
      secret('domainJoinPassword', 'Password'),
      strList('dnsSuffixSearchOrder', 'DNS suffix search order'),
    ],
  },
  {
    type: 'ApplyWindowsSettings',
    displayName: 'Apply Windows Settings',
    category: 'Settings',
    runsIn: 'bootImage',
    description: 'Writes Windows settings into the answer file Setup Windows and ConfigMgr uses.',
    properties: [
      str('userName', 'User name'),
      str('organization', 'Organization name'),
      secret('productKey', 'Product key'),
      bool('randomAdminPassword', 'Randomly generate the local administrator password and disable the account', { default: true }),
      secret('adminPassword', 'Local administrator password', { description: 'Enables the account with this password.' }),
      str('timeZone', 'Time zone', { description: 'Windows time zone name, e.g. W. Europe Standard Time' }),
      str('inputLocale', 'Input locale'),
      str('systemLocale', 'System locale'),
      str('uiLanguage', 'UI language'),
      str('uiLanguageFallback', 'UI language fallback'),
      str('userLocale', 'User locale'),
    ],
  },
  {
    type: 'CaptureNetworkSettings',
    displayName: 'Capture Network Settings',
    category: 'Settings',
    runsIn: 'fullOs',
    description: 'Saves network settings in variables that override Apply Network Settings.',
    properties: [
      bool('migrateMembership', 'Migrate domain and workgroup membership', { default: false }),
      bool('migrateAdapterSettings', 'Migrate network adapter configuration', { default: false }),
    ],
  },
  {
    type: 'CaptureWindowsSettings',
    displayName: 'Capture Windows Settings',
    category: 'Settings',
    runsIn: 'both',
    description: 'Saves Windows settings in variables that override Apply Windows Settings.',
    properties: [
      bool('migrateComputerName', 'Migrate computer name', { default: true }),
      bool('migrateRegistration', 'Migrate registered user and organization names', { default: true }),
      bool('migrateTimeZone', 'Migrate time zone', { default: true }),
    ],
  },
];

const software: readonly StepTypeDef[] = [
  {
    type: 'DownloadPackageContent',
    displayName: 'Download Package Content',
    category: 'Software',
    runsIn: 'both',
    description: 'Downloads packages to the task sequence cache, the client cache or a custom path.',
    properties: [
      refList('packageIds', 'Packages', 'package', { required: true }),
      oneOf('destination', 'Place into the following location', ['taskSequenceCache', 'clientCache', 'customPath'], {
        default: 'taskSequenceCache',
        description: 'clientCache is not supported in the boot image.',
      }),
      str('customPath', 'Custom path', { description: 'The package id is appended.' }),
      str('saveLocationVariable', 'Save path as a variable', { description: 'Base name; 01, 02… follow the package order.' }),
      bool('continueOnDownloadError', 'If a package download fails, continue downloading other packages', { default: false }),
    ],
  },
  {
    type: 'InstallApplication',
    displayName: 'Install Application',
    category: 'Software',
    runsIn: 'fullOs',
    description: 'Installs applications in order, with their dependencies.',
    properties: [
      refList('applicationIds', 'Install the following applications', 'application', { required: true }),
      bool('continueOnInstallError', 'If an application fails, continue installing other applications', { default: false }),
      bool('clearCache', 'Clear application content from cache after installing', { default: false }),
    ],
  },
  {
    type: 'InstallPackage',
    displayName: 'Install Package',
    category: 'Software',
    runsIn: 'fullOs',
    description: 'Runs a program of a package silently as Local System.',
    properties: [
      ref('packageId', 'Package', 'package', { required: true }),
      str('programName', 'Program', { required: true }),
    ],
  },
  {
    type: 'InstallSoftwareUpdates',
    displayName: 'Install Software Updates',
    category: 'Software',
    runsIn: 'fullOs',
    description: 'Installs the software updates deployed to the computer.',
    properties: [
      oneOf('mode', 'Updates to install', ['required', 'all'], {
        default: 'required',
        description: 'required: mandatory updates with a deadline; all: every available update.',
      }),
      bool('useCachedScan', 'Evaluate software updates from cached scan results', { default: true }),
    ],
  },
];

export const STEP_CATALOG_DATA: readonly StepTypeDef[] = [...general, ...disks, ...userState, ...images, ...drivers, ...settings, ...software];

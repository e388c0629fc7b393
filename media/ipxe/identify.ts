/**
 * The script for an iPXE that asked for `/boot.ipxe` without saying who it is: a DHCP server
 * whose boot file is the plain URL `http://SITE/boot.ipxe` (qemu's user-mode network with
 * `bootfile=`, a router's option 67) gives iPXE nothing to put in the query. The answer makes
 * iPXE ask again with its own facts, as the proxyDHCP's script URL and boot media carry them:
 * the MAC of the interface it booted from, the SMBIOS UUID, the architecture and the firmware.
 * Placeholder UUIDs (all zeros or all FF) are dropped by the site, as for every boot.
 */

const SITE_URL = /^https?:\/\/[A-Za-z0-9.\-:[\]]+$/;

export function identifyScript(siteUrl: string): string {
  if (!SITE_URL.test(siteUrl)) throw new Error(`unsafe site URL ${JSON.stringify(siteUrl)}`);
  return [
    '#!ipxe',
    '# osdeploy: this machine did not say who it is; ask again with its identity',
    // iPXE's ${buildarch} is i386 for BIOS builds on 64-bit machines too: only UEFI IA32 is x86.
    'set osd-arch x64',
    'iseq ${buildarch} arm64 && set osd-arch arm64 ||',
    'iseq ${platform}-${buildarch} efi-i386 && set osd-arch x86 ||',
    'set osd-uefi false',
    'iseq ${platform} efi && set osd-uefi true ||',
    // netX is the interface iPXE last configured: the one this request came through.
    `chain ${siteUrl}/boot.ipxe?mac=\${netX/mac}&uuid=\${uuid}&arch=\${osd-arch}&uefi=\${osd-uefi}`,
    '',
  ].join('\n');
}

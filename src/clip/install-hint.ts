// How to install a missing clipboard tool on this system, for the message that says it is
// missing: the user should be able to paste the command. The package names (wl-clipboard, xclip,
// xsel) are the same in every distribution below; only the package manager differs.

import { readFileSync } from "node:fs";

/** Package managers by the distribution ids of os-release's ID and ID_LIKE. */
const managers: readonly { readonly ids: readonly string[]; readonly command: string }[] = [
  { ids: ["debian", "ubuntu"], command: "sudo apt install" },
  { ids: ["fedora", "rhel", "centos"], command: "sudo dnf install" },
  { ids: ["arch"], command: "sudo pacman -S" },
  { ids: ["opensuse", "suse", "sles"], command: "sudo zypper install" },
  { ids: ["alpine"], command: "sudo apk add" },
  { ids: ["void"], command: "sudo xbps-install" },
];

/**
 * The command that installs `pkg` here, or, when the system is not recognised, the commands of
 * the commonest ones.
 */
export function installHint(
  pkg: string,
  platform: NodeJS.Platform,
  osRelease: string | undefined,
): string {
  if (platform === "freebsd") return `pkg install ${pkg}`;
  if (platform === "openbsd") return `pkg_add ${pkg}`;
  const ids = distributionIds(osRelease ?? "");
  const manager = managers.find((candidate) => candidate.ids.some((id) => ids.includes(id)));
  if (manager) return `${manager.command} ${pkg}`;
  return `Debian, Ubuntu: sudo apt install ${pkg}; Fedora: sudo dnf install ${pkg}; Arch: sudo pacman -S ${pkg}`;
}

/** This host's /etc/os-release (or /usr/lib/os-release); undefined where there is none. */
export function readOsRelease(): string | undefined {
  for (const path of ["/etc/os-release", "/usr/lib/os-release"]) {
    try {
      return readFileSync(path, "utf8");
    } catch {
      // the next place, or none
    }
  }
  return undefined;
}

/** ID and ID_LIKE of an os-release text, lowercased ("opensuse-leap" also as "opensuse"). */
function distributionIds(osRelease: string): string[] {
  const ids: string[] = [];
  for (const line of osRelease.split("\n")) {
    const match = /^(ID|ID_LIKE)=(.*)$/.exec(line.trim());
    if (!match) continue;
    const value = (match[2] ?? "").replace(/^["']|["']$/g, "").toLowerCase();
    for (const id of value.split(/\s+/).filter(Boolean)) ids.push(id, id.split("-")[0] ?? id);
  }
  return ids;
}

// The PowerShell scripts of the Windows backend (windows.ts). They use .NET's
// System.Windows.Forms.Clipboard, which lists the registered formats (for the do-not-share
// markers) and reads and writes images: Get-Clipboard and Set-Clipboard list no formats and
// write no image, and Get-Clipboard -Format Image is gone from PowerShell 7. Bytes cross the
// process boundary as base64, never as text in the console's code page, which would mangle
// anything outside it.

import { concealedMarkers } from "./concealed.js";

const prelude = [
  "$ErrorActionPreference = 'Stop'",
  "$ProgressPreference = 'SilentlyContinue'",
  "Add-Type -AssemblyName System.Windows.Forms, System.Drawing",
  // Straight to stdout: PowerShell's own output formatting may wrap long lines.
  'function Out-Line($line) { [Console]::Out.Write($line + "`n") }',
];

/** PowerShell's single-quoted string of `text`. */
function quoted(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/**
 * Prints `format <name>` for each format offered, plus `<name>=<value>` for the two DWORD
 * formats whose value matters (concealed.ts); then, unless a do-not-share marker is among them,
 * the item as `text <base64 of UTF-8>` or `image <base64 of PNG>`. The marker check here only
 * spares reading a concealed item: windows.ts decides on the printed formats.
 */
export const readScript = [
  ...prelude,
  "$data = [System.Windows.Forms.Clipboard]::GetDataObject()",
  "if ($null -eq $data) { exit 0 }",
  "$formats = @($data.GetFormats())",
  "foreach ($name in 'CanIncludeInClipboardHistory', 'CanUploadToCloudClipboard') {",
  "  if ($formats -contains $name) {",
  "    $stream = $data.GetData($name)",
  "    if ($stream -is [System.IO.Stream]) {",
  "      $value = New-Object byte[] 4",
  "      [void]$stream.Read($value, 0, 4)",
  "      $formats += ('{0}={1}' -f $name, [BitConverter]::ToInt32($value, 0))",
  "    }",
  "  }",
  "}",
  "foreach ($format in $formats) { Out-Line ('format ' + $format) }",
  `$hidden = @(${concealedMarkers.map((marker) => quoted(marker.type)).join(", ")})`,
  // -contains compares without regard to case, as isConcealed does.
  "foreach ($format in $formats) { if ($hidden -contains $format) { exit 0 } }",
  "if ($formats -contains 'UnicodeText') {",
  "  $text = [System.Windows.Forms.Clipboard]::GetText()",
  "  Out-Line ('text ' + [Convert]::ToBase64String([System.Text.Encoding]::UTF8.GetBytes($text)))",
  "  exit 0",
  "}",
  "$png = $null",
  // Browsers and Office put the original PNG (with its transparency) under this format.
  "if ($formats -contains 'PNG') {",
  "  $stream = $data.GetData('PNG')",
  "  if ($stream -is [System.IO.MemoryStream]) { $png = $stream.ToArray() }",
  "}",
  "if ($null -eq $png -and $formats -contains 'Bitmap') {",
  "  $image = [System.Windows.Forms.Clipboard]::GetImage()",
  "  $out = New-Object System.IO.MemoryStream",
  "  $image.Save($out, [System.Drawing.Imaging.ImageFormat]::Png)",
  "  $png = $out.ToArray()",
  "}",
  "if ($null -ne $png) { Out-Line ('image ' + [Convert]::ToBase64String($png)) }",
].join("\n");

/** Reads base64 of UTF-8 text from stdin and puts the text on the clipboard. */
export const writeTextScript = [
  ...prelude,
  "$bytes = [Convert]::FromBase64String([Console]::In.ReadToEnd().Trim())",
  "$text = [System.Text.Encoding]::UTF8.GetString($bytes)",
  // SetText refuses an empty string; an empty clipboard is the same thing.
  "if ($text.Length -eq 0) { [System.Windows.Forms.Clipboard]::Clear(); exit 0 }",
  "$data = New-Object System.Windows.Forms.DataObject",
  "$data.SetText($text, [System.Windows.Forms.TextDataFormat]::UnicodeText)",
  // Copy: the data stays after PowerShell exits; retried while another program holds the
  // clipboard open.
  "[System.Windows.Forms.Clipboard]::SetDataObject($data, $true, 10, 100)",
].join("\n");

/**
 * Reads base64 of a PNG from stdin and puts it on the clipboard twice: as a bitmap, which every
 * program reads, and as the PNG itself, which keeps transparency for those that read it.
 */
export const writeImageScript = [
  ...prelude,
  "$bytes = [Convert]::FromBase64String([Console]::In.ReadToEnd().Trim())",
  "$image = [System.Drawing.Image]::FromStream([System.IO.MemoryStream]::new($bytes))",
  "$data = New-Object System.Windows.Forms.DataObject",
  "$data.SetImage($image)",
  "$data.SetData('PNG', $false, [System.IO.MemoryStream]::new($bytes))",
  "[System.Windows.Forms.Clipboard]::SetDataObject($data, $true, 10, 100)",
].join("\n");

/** The arguments that run `script` in Windows PowerShell. */
export function powershellArgs(script: string): string[] {
  // -EncodedCommand (base64 of UTF-16LE) carries the script past Windows' command-line quoting,
  // which mangles quotes in a -Command argument. -STA: the clipboard API throws outside a
  // single-threaded apartment; powershell.exe defaults to one, but saying so costs nothing.
  return [
    "-NoProfile",
    "-NonInteractive",
    "-STA",
    "-EncodedCommand",
    Buffer.from(script, "utf16le").toString("base64"),
  ];
}

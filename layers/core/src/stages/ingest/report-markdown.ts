import type { IngestReport } from './report';

const verdictLine: Record<IngestReport['verdict'], string> = {
  loaded: '✅ loaded',
  rejected: '❌ rejected — nothing loaded',
  duplicate: '⏭️ duplicate — same content already loaded',
};

/** The report for people: what happened to the file, and each problem located. */
export function renderReportMarkdown(report: IngestReport): string {
  const lines: string[] = [];
  const cell = (text: unknown) =>
    String(text ?? '')
      .replace(/\|/g, '\\|')
      .replace(/\r?\n/g, ' ');
  lines.push(`# Validation report — ${report.dataset}`, '');
  lines.push(`**${verdictLine[report.verdict]}**: ${report.summary}`, '');
  lines.push('| | |', '|---|---|');
  lines.push(`| file | \`${cell(report.source.key)}\` |`);
  lines.push(`| received | ${report.startedAt} |`);
  lines.push(`| size | ${report.sizeBytes} bytes, sha256 \`${report.sha256}\` |`);
  for (const table of report.tables ?? []) {
    const details = [
      table.format.toUpperCase(),
      ...table.containers.map((container) => `in ${container}`),
      table.dialect
        ? `${table.dialect.encoding}, delimiter "${table.dialect.delimiter === '\t' ? 'tab' : table.dialect.delimiter}"`
        : '',
      table.sheet ? `sheet "${table.sheet}"` : '',
    ].filter(Boolean);
    lines.push(
      `| format${report.tables!.length > 1 ? ` of ${cell(table.name)}` : ''} | ${details.join(', ')} |`,
    );
  }
  lines.push(
    `| rows | ${report.rows.read} read, ${report.rows.valid} valid, ${report.rows.invalid} invalid, ${report.rows.loaded} loaded |`,
  );
  if (report.raw) lines.push(`| original kept at | \`${report.raw.bucket}/${report.raw.key}\` |`);
  if (report.quarantine)
    lines.push(`| quarantine copy | \`${report.quarantine.bucket}/${report.quarantine.key}\` |`);
  lines.push(`| run | \`${report.runId}\` |`, '');

  const types = Object.entries(report.errorCounts);
  if (types.length > 0) {
    lines.push('## Problems', '', '| type | count |', '|---|---|');
    for (const [type, count] of types) lines.push(`| ${type} | ${count} |`);
    lines.push('');
    for (const [type, count] of types) {
      const shown = report.errors.filter((error) => error.type === type);
      lines.push(`### ${type}${shown.length < count ? ` (first ${shown.length} of ${count})` : ''}`, '');
      lines.push('| file | row | field | cell | message |', '|---|---|---|---|---|');
      for (const error of shown) {
        const located = error as {
          file?: string;
          rowNumber?: number;
          fieldName?: string;
          label?: string;
          cell?: string;
          hint?: string;
        };
        const message = located.hint ? `${error.message} — ${located.hint}` : error.message;
        lines.push(
          `| ${cell(located.file ?? '')} | ${located.rowNumber ?? ''} | ${cell(located.fieldName ?? located.label ?? '')} | ${cell(located.cell ?? '')} | ${cell(message)} |`,
        );
      }
      lines.push('');
    }
  }
  return lines.join('\n');
}

import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { findDatasetByKey, loadProject, parseCompiledProject, compileProject } from '@datacycle/core';

const root = path.resolve(import.meta.dirname, '../..');

describe('project', () => {
  describe('loadProject', () => {
    it('accepts the example project with its five datasets', async () => {
      const result = await loadProject(path.join(root, 'examples/territoires'));

      expect(result.ok).toBe(true);
      if (!result.ok) return;
      expect(result.project.config.name).toBe('territoires');
      expect(result.project.datasets.map((d) => d.id)).toEqual([
        'departements',
        'irve-consolidation',
        'irve-dynamique',
        'irve-statique',
        'regions',
      ]);
      const irve = result.project.datasets.find((d) => d.id === 'irve-statique');
      expect(irve?.tableSchema.fields).toHaveLength(40);
      expect(irve?.config.load.mode).toBe('replace');
    });

    it('reports every problem with its file and path', async () => {
      const result = await loadProject(path.join(root, 'test/fixtures/projects/broken'));

      expect(result.ok).toBe(false);
      if (result.ok) return;
      const lines = result.issues.map((i) => `${path.basename(i.file)} ${i.path}: ${i.message}`);
      expect(lines).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/^datacycle\.yaml name: lower-case/),
          expect.stringMatching(/^datacycle\.yaml contact\.email: /),
          expect.stringMatching(/^stations\.yaml schema: file .*missing\.json not found/),
          expect.stringMatching(/^mesures\.yaml accrualPeriodicity: /),
          expect.stringMatching(/^mesures\.yaml sources\[0\]\.schedule: expected an EventBridge expression/),
          expect.stringMatching(/^mesures\.yaml load\.mode: /),
          expect.stringMatching(
            /^mesures\.yaml sources\[1\]\.incremental: an OpenDataSoft exports URL is collected whole/,
          ),
          expect.stringMatching(/^mesures\.yaml : Unrecognized key.*colour/),
          "loop_a.sql sql: source('unknown-dataset'): no dataset named unknown-dataset in datasets/",
          'loop_a.sql header.tests[0]: column "missing_column" is not among the model\'s documented columns',
          "loop_a.sql header.tests[1]: ref('nowhere') is not a model of the project",
          "loop_b.sql sql: ref('absent'): no model named absent in models/",
          'loop_a.sql sql: models depend on each other in a cycle: loop_a → loop_b → loop_a',
        ]),
      );
    });

    it('reports Table Schema problems in the schema file, with the field path', async () => {
      const result = await loadProject(path.join(root, 'test/fixtures/projects/broken'));
      if (result.ok) throw new Error('expected issues');

      const inSchema = result.issues.filter((i) => i.file.endsWith('mesures.json'));

      expect(inSchema.map((i) => `${i.path}: ${i.message}`)).toEqual(
        expect.arrayContaining([
          'fields[1].name: duplicate field name "id"',
          'primaryKey: primary key field "code" is not a field',
        ]),
      );
    });
  });

  it('checks foreign keys: known dataset, existing fields', async () => {
    const result = await loadProject(path.join(root, 'test/fixtures/projects/broken'));
    if (result.ok) throw new Error('expected issues');

    const fk = result.issues
      .filter((i) => i.file.endsWith('bad-fk.yaml'))
      .map((i) => `${i.path}: ${i.message}`);

    expect(fk).toEqual([
      'schema.foreignKeys[0]: reference.resource "regions" is not a dataset of the project',
      'schema.foreignKeys[1]: field "code_commune" is not in the schema',
    ]);
  });

  describe('compiled project', () => {
    it('round-trips through JSON and maps landing keys to datasets', async () => {
      const result = await loadProject(path.join(root, 'examples/territoires'));
      if (!result.ok) throw new Error('example project should be valid');

      const project = parseCompiledProject(compileProject(result.project));

      expect(findDatasetByKey(project, 'irve-statique/2024/file.csv')?.id).toBe('irve-statique');
      expect(findDatasetByKey(project, 'departements/x.csv')?.id).toBe('departements');
      expect(findDatasetByKey(project, 'unknown/x.csv')).toBeUndefined();
    });
  });
});

import type { Server } from 'node:http';
import path from 'node:path';
import { serveFiles, type UdataDataset } from './file-server';
import { packageRoot } from './settings';

// Fixed ports of the local stand-ins sit below Linux's ephemeral range (32768-60999), where
// any outgoing connection may hold them: LocalStack's own did, once, and `npm start` failed.
/** Where the example project's sources point (see examples/territoires/datasets/*.yaml). */
export const examplePortalPort = 28761;
export const exampleDataDir = path.join(packageRoot, 'examples/territoires/data');

/** The udata-like catalog of the demo portal: the national IRVE consolidation, as on data.gouv.fr. */
export const exampleUdataCatalog: Record<string, UdataDataset> = {
  'fichier-consolide-des-bornes-de-recharge-pour-vehicules-electriques': {
    title: 'Fichier consolidé des Bornes de Recharge pour Véhicules Électriques',
    resources: [
      { title: 'Schéma IRVE statique (documentation)', format: 'json', file: 'irve-statique.schema.json' },
      { title: 'Fichier consolidé IRVE statique', format: 'csv', file: 'irve-statique-exemple.csv' },
    ],
  },
};

/** Serves the example's data like the portals it stands for; `root` lets a test serve other files. */
export function serveExamplePortal(root = exampleDataDir): Promise<Server> {
  return serveFiles(root, examplePortalPort, exampleUdataCatalog);
}

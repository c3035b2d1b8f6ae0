import type { Model } from './model';

/**
 * Models in an order where each comes after the models it refs; or the first cycle found,
 * as the list of model names that form it (first = last).
 */
export function orderModels(models: readonly Model[]): { order: Model[] } | { cycle: string[] } {
  const byName = new Map(models.map((model) => [model.name, model]));
  const state = new Map<string, 'visiting' | 'done'>();
  const order: Model[] = [];
  const path: string[] = [];
  const visit = (model: Model): string[] | undefined => {
    const current = state.get(model.name);
    if (current === 'done') return undefined;
    if (current === 'visiting') return [...path.slice(path.indexOf(model.name)), model.name];
    state.set(model.name, 'visiting');
    path.push(model.name);
    for (const ref of [...model.refs].sort()) {
      const dependency = byName.get(ref);
      if (!dependency) continue; // unknown refs are reported elsewhere
      const cycle = visit(dependency);
      if (cycle) return cycle;
    }
    path.pop();
    state.set(model.name, 'done');
    order.push(model);
    return undefined;
  };
  for (const model of [...models].sort((a, b) => a.name.localeCompare(b.name))) {
    const cycle = visit(model);
    if (cycle) return { cycle };
  }
  return { order };
}

/** The models to rebuild when `datasets` changed: those that read them, and everything downstream. */
export function downstreamModels(ordered: readonly Model[], datasets: readonly string[]): Model[] {
  const changed = new Set<string>();
  for (const model of ordered) {
    if (
      model.sources.some((source) => datasets.includes(source)) ||
      model.refs.some((ref) => changed.has(ref))
    )
      changed.add(model.name);
  }
  return ordered.filter((model) => changed.has(model.name));
}

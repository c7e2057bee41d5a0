import type SQLite from 'better-sqlite3';

/**
 * The tables in an order in which every table comes after the tables it refers to (its foreign
 * keys, as SQLite declares them), so that rows can be inserted table by table with the keys
 * checked. A table's references to itself do not count; ties go by name, so the order is stable.
 */
export function tablesInDependencyOrder(db: SQLite.Database, tables: Map<string, unknown>): string[] {
  const refersTo = new Map<string, Set<string>>();
  for (const table of tables.keys()) {
    const parents = (db.prepare(`SELECT "table" FROM pragma_foreign_key_list(?)`).all(table) as { table: string }[])
      .map((r) => r.table)
      .filter((parent) => parent !== table && tables.has(parent));
    refersTo.set(table, new Set(parents));
  }
  const order: string[] = [];
  const placed = new Set<string>();
  while (order.length < tables.size) {
    const ready = [...refersTo.keys()]
      .filter((t) => !placed.has(t) && [...refersTo.get(t)!].every((p) => placed.has(p)))
      .sort();
    if (ready.length === 0)
      throw new Error(
        `The store's tables refer to each other in a cycle (${[...refersTo.keys()].filter((t) => !placed.has(t)).join(', ')}): no order inserts them with their keys checked`,
      );
    for (const t of ready) {
      order.push(t);
      placed.add(t);
    }
  }
  return order;
}

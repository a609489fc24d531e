/** Escapes text for HTML and SVG, in content and in quoted attributes alike. */
export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** Series colours, distinct for the usual few targets and readable on white; errors have their own red. */
export const seriesPalette = ['#2563eb', '#16a34a', '#9333ea', '#0891b2', '#ca8a04', '#db2777', '#4b5563', '#65a30d'];
export const errorColor = '#dc2626';

export function colorOf(index: number): string {
  return seriesPalette[index % seriesPalette.length] as string;
}

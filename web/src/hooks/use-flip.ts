import { useLayoutEffect, useRef, type RefObject } from 'react';

const DURATION_MS = 420;
const EASING = 'cubic-bezier(0.2, 0.8, 0.2, 1)';

/**
 * FLIP reordering (First, Last, Invert, Play): after a render that changed the order of the
 * list's children (`[data-flip-key]`), each moved child starts at its old position and glides to
 * the new one. It measures only when `orderKey` changes, and reads `offsetTop` (one layout for
 * the whole list), so count updates that do not reorder cost nothing here.
 */
export function useFlip(
  listRef: RefObject<HTMLElement | null>,
  orderKey: string,
  enabled: boolean,
): void {
  const positions = useRef(new Map<string, number>());

  useLayoutEffect(() => {
    const list = listRef.current;
    if (list === null) return;
    const previous = positions.current;
    const next = new Map<string, number>();
    for (const child of list.children) {
      if (!(child instanceof HTMLElement)) continue;
      const key = child.dataset.flipKey;
      if (key === undefined) continue;
      const top = child.offsetTop;
      next.set(key, top);
      const before = previous.get(key);
      if (
        !enabled ||
        before === undefined ||
        before === top ||
        typeof child.animate !== 'function'
      ) {
        continue;
      }
      child.animate(
        [{ transform: `translateY(${before - top}px)` }, { transform: 'translateY(0)' }],
        { duration: DURATION_MS, easing: EASING },
      );
    }
    positions.current = next;
  }, [listRef, orderKey, enabled]);
}

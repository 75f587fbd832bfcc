// A row of posters that scrolls sideways (`[data-shelf]`): a button at each edge scrolls it by
// most of its width, shown (with a fade over that edge) only while there is more in its
// direction. Without it the row still scrolls by touch, trackpad, or tabbing through it.

const calm = window.matchMedia("(prefers-reduced-motion: reduce)");

export function enhanceShelf(shelf) {
  const row = shelf.querySelector("[data-shelf-row]");
  const frame = row.parentElement;
  const prev = shelf.querySelector("[data-shelf-prev]");
  const next = shelf.querySelector("[data-shelf-next]");

  const update = () => {
    // A pixel of slack: zoomed pages scroll to fractions and may stop just short of the end.
    const before = row.scrollLeft > 1;
    const after = row.scrollLeft + row.clientWidth < row.scrollWidth - 1;
    frame.classList.toggle("more-before", before);
    frame.classList.toggle("more-after", after);
    // A button about to hide hands its focus to the other rather than dropping it on the page.
    if (!after && document.activeElement === next && before) prev.focus();
    if (!before && document.activeElement === prev && after) next.focus();
    prev.hidden = !before;
    next.hidden = !after;
  };

  const scroll = (direction) => {
    const card = row.firstElementChild;
    const step = Math.max(row.clientWidth - (card ? card.offsetWidth : 0), row.clientWidth / 2);
    row.scrollBy({ left: direction * step, behavior: calm.matches ? "auto" : "smooth" });
  };

  prev.addEventListener("click", () => scroll(-1));
  next.addEventListener("click", () => scroll(1));
  row.addEventListener("scroll", update, { passive: true });
  new ResizeObserver(update).observe(row);
  update();
}

// What telemetry text must never have become in a page (run in every frame by
// tests/test_browser_hostile_text.py): a link or a source elsewhere, a handler that runs,
// a style or script holding it, math, colour, a badge, an icon or an emoji.
// Returns one line per finding; an empty list when the page is inert.
() => {
  const found = [];
  const origin = location.origin;
  const urls = /^(src|href|xlink:href|data|action|formaction|poster|background)$/i;
  const elsewhere = (value) => {
    let url;
    try {
      url = new URL(value, location.href);
    } catch {
      return false;
    }
    if (url.protocol === 'javascript:') return true;
    return url.origin !== origin && !['data:', 'blob:', 'about:'].includes(url.protocol);
  };
  for (const el of document.querySelectorAll('*')) {
    for (const attr of el.attributes) {
      const runs = attr.name.startsWith('on') && /__pwned/.test(attr.value);
      const loads = urls.test(attr.name) && elsewhere(attr.value);
      const styled = /^(style|srcset)$/i.test(attr.name) && /evil\.example/i.test(attr.value);
      if (runs || loads || styled) found.push(`${el.tagName} ${attr.name}=${attr.value}`);
    }
  }
  for (const el of document.querySelectorAll('style, script:not([type="application/json"])')) {
    if (/__pwned|evil\.example/.test(el.textContent)) found.push(`${el.tagName} holding telemetry`);
  }
  const marks = '.katex, .stMarkdownColoredText, .stMarkdownColoredBackground, .stMarkdownShimmer';
  for (const el of document.querySelectorAll(marks)) found.push(`${el.className}: ${el.textContent}`);
  for (const el of document.querySelectorAll('.stMarkdownBadge')) found.push(`badge:${el.textContent}`);
  for (const el of document.querySelectorAll('[data-testid=stMain] [data-testid=stIconMaterial]')) {
    if (el.textContent === 'bolt') found.push('a material icon from telemetry');
  }
  if (document.body.innerText.includes('\u{1F604}')) found.push('an emoji from :smile:');
  if (window.__pwned !== undefined) found.push('a payload ran');
  return found;
}

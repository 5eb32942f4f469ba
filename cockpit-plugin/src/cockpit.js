// Cockpit's own cockpit.js is loaded by index.html from ../base1/cockpit.js
// (it is part of the running Cockpit, never bundled with the page).
const cockpit = window.cockpit;
export default cockpit;

export const _ = (s) => cockpit.gettext(s);
// Marks a string for extraction without translating it now.
export const N_ = (s) => s;

export function isItalian() {
    return (cockpit.language || "en").startsWith("it");
}

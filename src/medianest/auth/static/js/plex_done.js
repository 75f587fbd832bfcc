// The page plex.tv sends its sign-in window to after approval: the window that opened it is
// waiting for the approval already, so this one closes. Browsers refuse when the person opened
// it themselves (a tab from the "Open the Plex sign-in page" link): the page then says what to do.

window.close();

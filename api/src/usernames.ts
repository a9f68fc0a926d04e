/** User names are also mailbox names on the IMAP servers, hence the narrow alphabet (checked at sign-up and by the admin routes). */
export const USERNAME_RE = /^[a-z0-9][a-z0-9._-]{1,63}$/;

export const USERNAME_RULE = "2-64 lower-case letters, digits, dots, underscores or hyphens, starting with a letter or digit";

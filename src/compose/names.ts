// Project-name rules from Compose: lowercase letters, digits, '-' and '_', starting with a letter or digit.

const VALID = /^[a-z0-9][a-z0-9_-]*$/;

export function isValidProjectName(name: string): boolean {
  return VALID.test(name);
}

/** Normalizes a folder name into a project name, as Compose does for the default name. */
export function normalizeProjectName(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9_-]/g, '')
    .replace(/^[^a-z0-9]+/, '');
}

export const PROJECT_NAME_RULE =
  'a project name must contain only lowercase letters, digits, dashes and underscores, and start with a letter or digit';

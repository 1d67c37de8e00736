/**
 * The schema library of every function: zod's tree-shakable functional API (`zod/mini`), with the English
 * messages zod's classic API installs for itself. Cold start was the reason: the classic API is one ~95 KB
 * block that a bundle keeps whole, mini only the parts our schemas use (docs/bench.md, "bundle").
 */
import { en } from 'zod/locales';
import * as z from 'zod/mini';

// Without it mini reports every issue as "Invalid input"; with it, the same words as classic zod.
z.config(en());

export * from 'zod/mini';

/** A mebibyte: the unit the size limits are written in. */
export const MIB = 1024 * 1024;

/**
 * The largest task one call may carry, in UTF-8 bytes. The tool's schema refuses more, and the delegation checks
 * again for the callers that skip the schema. Security: a request is held in memory until its run ends.
 */
export const MAX_TASK_BYTES = MIB;

/**
 * The contract of the `…Into` encoders, which write into a buffer they do
 * not own (the delivery queue's batch buffer, docs/memory.md): they
 * never write past its end, and say so when a stat does not fit.
 */

/** What an `…Into` encoder returns when the bytes do not fit before the end of the buffer it was given. */
export const NO_ROOM = -1;

/**
 * Thrown inside an encoder the moment the buffer runs out, so the field
 * writers need no return checks; its entry point catches it and returns NO_ROOM.
 */
export const OUT_OF_ROOM = new Error('no room');

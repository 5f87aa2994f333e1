// Bounds herd puts on what a compose file (or `herd scale`) may ask of one machine.

/** Replicas of one service. Each is a process or container with its own port on this host; far
 * past this a typo (`scale: 10000000`) would exhaust memory and ports rather than run. */
export const MAX_REPLICAS = 1000;

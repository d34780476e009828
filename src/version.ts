/** Our release number, printed by `fwknopd -V` and `fwknop -V`. */
export const VERSION = "0.1.0";

/**
 * The Luhn (mod 10) checksum every card number carries in its last digit. `digits` is a string of
 * ASCII digits only (strip spaces and dashes first). Shared by the router (which refuses anything
 * that looks like card data) and the sandbox (which checks the test cards its page takes).
 */
export function passesLuhn(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

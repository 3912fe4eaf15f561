// The people of the end-to-end story. accounts.spec.ts creates them; later specs (run after it,
// one worker, in file order) sign in as them.
export const admin = { email: 'ada@acme.example', password: 'admin password 1' };
export const operator = { email: 'olga@acme.example', password: 'operator password 1', name: 'Olga Operator' };
export const marketer = { email: 'mark@acme.example', password: 'marketer password 1', name: 'Mark Marketer' };

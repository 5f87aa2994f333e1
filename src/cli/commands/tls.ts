// `herd tls ca`: the certificate of herd's local CA (the ingress's `tls: internal`), to be trusted
// by a browser, curl (--cacert) or the system's store.
import type { Command } from 'commander';
import { LocalCA, caDir } from '../../proxy/ingress/ca.ts';

export function registerTls(program: Command): void {
  const tls = program
    .command('tls')
    .description("herd's local certificate authority (x-herd.ingress with tls: internal)");
  tls
    .command('ca')
    .description('print the CA certificate (PEM), making the CA first if there is none')
    .addHelpText(
      'after',
      `
The CA is yours alone: its key is in ${caDir()} (mode 0600). Trust its certificate where you test
your stack, and nowhere else.

Examples:
  $ herd tls ca > herd-ca.pem && curl --cacert herd-ca.pem https://api.localhost/
  $ herd tls ca | sudo tee /usr/local/share/ca-certificates/herd.crt && sudo update-ca-certificates`,
    )
    .action(() => {
      process.stdout.write(LocalCA.open().certPem);
    });
}

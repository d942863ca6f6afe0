/** Chooses the bootstrap from the environment the process was started in. */
import type { Bootstrap } from './bootstrap.js';
import { LauncherBootstrap, launcherEnvironment } from './launcher-bootstrap.js';
import { SingletonBootstrap } from './singleton.js';
import { PmixBootstrap, underPmix } from './pmix.js';

export async function detectBootstrap(env: NodeJS.ProcessEnv = process.env): Promise<Bootstrap> {
  const launched = launcherEnvironment(env);
  if (launched !== null) {
    const boot = new LauncherBootstrap(launched);
    await boot.connect();
    return boot;
  }
  if (underPmix(env)) return PmixBootstrap.open(env);
  return new SingletonBootstrap();
}

// One task at a time, in the order they were asked for; a task that fails does not stop the ones queued after it.
export type Serial = <T>(task: () => Promise<T>) => Promise<T>;

export function serial(): Serial {
  let queue: Promise<unknown> = Promise.resolve();
  return (task) => {
    const result = queue.then(task, task);
    queue = result.catch(() => undefined);
    return result;
  };
}

/** AMQP's reply code for a broken precondition: RabbitMQ's consumer timeout closes a channel with it. */
const PRECONDITION_FAILED = 406;

/**
 * Why RabbitMQ closed the consuming channel, for the log. A consumer timeout
 * is the one that users meet: RabbitMQ (3.8.15 and later) closes a channel
 * whose oldest delivery stays unacked longer than `consumer_timeout`, 30
 * minutes by default, and a task longer than that is acked only when it ends.
 * The pool survives it (the task goes on, and is acked on the new channel),
 * but every such task costs a reconnection: the fix is on the server.
 */
export function consumingChannelClosed(error: (Error & { code?: unknown }) | undefined): Error {
  if (!error) return new Error('the consuming channel closed');
  const timeout = /acknowledgement .*timed out\. Timeout value used: (\d+) ms/.exec(error.message);
  if (error.code === PRECONDITION_FAILED && timeout) {
    return new Error(
      `RabbitMQ closed the consuming channel: a task ran longer than its consumer_timeout of ${timeout[1]} ms, and its ack waits for its end. ` +
        'The task goes on and is acked on the new channel; set consumer_timeout in rabbitmq.conf above the longest time limit of your tasks',
    );
  }
  return new Error(`the consuming channel closed: ${error.message}`);
}

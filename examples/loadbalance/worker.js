// A background worker for the example: one line of output every second.
let n = 0;
const timer = setInterval(
  () => console.log(`worker ${process.env.HERD_REPLICA} tick ${++n}`),
  1000,
);
process.on('SIGTERM', () => {
  clearInterval(timer);
  console.log('worker stopping');
});

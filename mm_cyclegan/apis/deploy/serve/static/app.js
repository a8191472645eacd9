// The page's logic: send the chosen file's bytes to /api/translate and show
// what comes back. document.body.dataset.state tells where we are
// ("ready", "busy", "done", "error"); the browser test waits on it.
'use strict';

const $ = (id) => document.getElementById(id);
let current = null;   // {blob, name} of the last image chosen
let requestId = 0;    // only the newest request may update the page
let directionNames = {};  // 'a2b' -> 'photo → anime', from /api/info

function setState(state) {
  document.body.dataset.state = state;
}

function showMessage(text) {
  $('message').textContent = text;
  $('message').hidden = !text;
}

function stem(name) {
  const base = name.split(/[\\/]/).pop() || 'image';
  const dot = base.lastIndexOf('.');
  return dot > 0 ? base.slice(0, dot) : base;
}

function describeModel(model) {
  const parts = [model.architecture];
  parts.push(model.iterations === null ? 'training iterations unknown' :
    `trained ${model.iterations} iterations`);
  let source = `from ${model.source} (${model.kind})`;
  if (model.source_sha256) {
    source += `, made from checkpoint sha256 ${model.source_sha256.slice(0, 12)}…`;
  }
  parts.push(source);
  parts.push(`runs on ${model.device}, ${model.precision}`);
  return parts.join(' · ');
}

async function loadInfo() {
  const response = await fetch('/api/info');
  const info = await response.json();
  $('model-info').textContent = 'Model: ' + describeModel(info.model);
  $('limits').textContent = `(${info.limits.text})`;
  directionNames = info.model.direction_names || {};
  const select = $('direction');
  for (const direction of info.directions) {
    const option = document.createElement('option');
    option.value = direction;
    option.textContent = directionNames[direction] || direction;
    select.appendChild(option);
  }
  select.disabled = info.directions.length < 2;
  const canReconstruct = info.directions.length > 1;
  $('reconstruct').disabled = !canReconstruct;
  $('reconstruct').checked = canReconstruct;
  $('reconstruct-label').title = canReconstruct ?
    'Translate the result back with the other generator' :
    'These weights hold one generator only: no way back';
  setState('ready');
}

async function translate() {
  if (!current) return;
  const id = ++requestId;
  const direction = $('direction').value;
  const reconstruct = $('reconstruct').checked ? '1' : '0';
  showMessage('');
  $('status').textContent = `Translating ${current.name}…`;
  setState('busy');
  let answer;
  try {
    const response = await fetch(
      `/api/translate?direction=${encodeURIComponent(direction)}` +
      `&reconstruct=${reconstruct}`,
      {method: 'POST', body: current.blob,
       headers: {'Content-Type': 'application/octet-stream'}});
    answer = await response.json();
    if (!response.ok && !answer.error) {
      answer = {error: `The server answered ${response.status}.`};
    }
  } catch (err) {
    answer = {error: `No answer from the server (${err}).`};
  }
  if (id !== requestId) return;  // a newer image was chosen meanwhile
  $('status').textContent = '';
  if (answer.error) {
    $('results').hidden = true;
    showMessage(answer.error);
    setState('error');
    return;
  }
  $('input-img').src = answer.input;
  $('output-img').src = answer.output;
  $('direction-caption').textContent =
    `(${directionNames[answer.direction] || answer.direction})`;
  $('reconstruction').hidden = !answer.reconstruction;
  $('reconstruction-img').src = answer.reconstruction || '';
  $('download').href = answer.output;
  $('download').download = `${stem(current.name)}_${answer.direction}.png`;
  $('time').textContent = `${answer.width}×${answer.height} px, ` +
    `translated in ${answer.seconds.toFixed(2)} s`;
  $('results').hidden = false;
  // Done once the browser has decoded the result images.
  await Promise.all([$('input-img'), $('output-img')].map(
    (img) => img.decode().catch(() => null)));
  if (id === requestId) setState('done');
}

function choose(blob, name) {
  current = {blob, name};
  translate();
}

async function tryDemo() {
  const seed = Math.floor(Math.random() * 100000);
  const response = await fetch(`/api/demo?seed=${seed}`);
  if (!response.ok) {
    showMessage('The demo image could not be rendered.');
    setState('error');
    return;
  }
  // The procedural landscape is a photo: domain a of the demo model.
  const select = $('direction');
  if ([...select.options].some((o) => o.value === 'a2b')) select.value = 'a2b';
  choose(await response.blob(), `demo_landscape_${seed}.png`);
}

function setUp() {
  const drop = $('drop');
  $('file').addEventListener('change', (event) => {
    const file = event.target.files[0];
    if (file) choose(file, file.name);
    event.target.value = '';  // picking the same file again re-sends it
  });
  drop.addEventListener('dragover', (event) => {
    event.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (event) => {
    event.preventDefault();
    drop.classList.remove('over');
    const file = event.dataTransfer.files[0];
    if (file) choose(file, file.name);
  });
  $('demo').addEventListener('click', tryDemo);
  $('direction').addEventListener('change', translate);
  $('reconstruct').addEventListener('change', translate);
  loadInfo().catch((err) => {
    showMessage(`Could not load the model information (${err}).`);
    setState('error');
  });
}

document.addEventListener('DOMContentLoaded', setUp);

/* Draws every chart on the page from its <script type="application/json" data-chart="TARGET-ID">
   block (written by perception.charts). No inline scripts: the page's CSP forbids them. */
(function () {
  "use strict";

  var CONFIG = {
    responsive: true,
    displaylogo: false,
    modeBarButtonsToRemove: ["select2d", "lasso2d", "autoScale2d"],
    toImageButtonOptions: { format: "png", scale: 2 }
  };

  // Plotly never wraps titles: break long ones at spaces so they fit a phone screen.
  function wrap(text, width) {
    var limit = Math.max(14, Math.floor(width / 8.5));
    if (!text || text.length <= limit || text.indexOf("<br>") !== -1) { return text; }
    var lines = [], line = "";
    text.split(" ").forEach(function (word) {
      if (line && (line + " " + word).length > limit) { lines.push(line); line = word; }
      else { line = line ? line + " " + word : word; }
    });
    lines.push(line);
    return lines.join("<br>");
  }

  function fit(layout, width) {
    if (layout.title && layout.title.text) {
      layout.title.text = wrap(layout.title.text, width - 20);
      var extra = (layout.title.text.split("<br>").length - 1) * 20;
      layout.margin.t += extra;
      layout.height += extra;
      layout.title.y = 1 - 12 / layout.height;
      if (layout.legend && layout.legend.yref === "container") { layout.legend.y = 1 - (40 + extra) / layout.height; }
    }
    if (layout.xaxis && layout.xaxis.title && layout.xaxis.title.text) {
      layout.xaxis.title.text = wrap(layout.xaxis.title.text, width - 190);  // the plot area is narrower
    }
    return layout;
  }

  function draw(source) {
    var target = document.getElementById(source.getAttribute("data-chart"));
    if (!target) { return; }
    try {
      var figure = JSON.parse(source.textContent);
      window.Plotly.newPlot(target, figure.data, fit(figure.layout, target.clientWidth), CONFIG);
    } catch (error) {
      target.textContent = "This chart could not be drawn. The table below holds the same figures.";
      target.className += " chart-failed";
    }
  }

  function drawAll() {
    if (!window.Plotly) { return; }
    var sources = document.querySelectorAll('script[type="application/json"][data-chart]');
    for (var i = 0; i < sources.length; i++) { draw(sources[i]); }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawAll);
  } else {
    drawAll();
  }
})();

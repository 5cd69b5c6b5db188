// "Download the CSV" of the new team tokens, built from the text already on the page: nothing is
// fetched again (the server keeps no token to give), and no inline script is needed (CSP).
const text = document.getElementById("tokens-csv");
const link = document.getElementById("tokens-download");
if (text && link) {
  // A BOM so that spreadsheet programs read the Korean names as UTF-8, as the API's CSV does.
  const blob = new Blob(["\ufeff", text.value], { type: "text/csv;charset=utf-8" });
  link.href = URL.createObjectURL(blob);
  link.hidden = false;
}

/* Autocomplete pickers offer the records of the administration the form is about: the chosen
   one on an add form (#id_administration), the fixed one on a change form (data-administration).
   Django's autocomplete.js sends term, page and the field; this adds the administration. */
'use strict';
(function($) {
  if (!$ || !$.ajaxPrefilter) { return; }
  function administration() {
    const select = document.getElementById('id_administration');
    if (select && select.value) { return select.value; }
    const fixed = document.querySelector('[data-administration]');
    return fixed ? fixed.getAttribute('data-administration') : '';
  }
  // Prefilters run after jQuery turned `data` into a query string, before it joins the URL.
  $.ajaxPrefilter(function(options) {
    if (!options.url || options.url.indexOf('/autocomplete/') === -1) { return; }
    const data = typeof options.data === 'string' ? options.data : '';
    if (data.indexOf('field_name=administration') !== -1) { return; }
    const id = administration();
    if (id) {
      options.data = (data ? data + '&' : '') + 'administration=' + encodeURIComponent(id);
    }
  });
})(window.django && window.django.jQuery);
